// One screen rectangle per instance around one object (the tile's tag k): its pose, material and
// the frame's camera go to the fragment shader as flat inputs.
uniform ivec2 target;
uniform int tile0;

flat out int v_layer;
flat out int v_frame;
flat out int v_k;
flat out mat4 v_model;
flat out mat4 v_c2w;
flat out mat4 v_w2c;
flat out vec4 v_color;
flat out vec4 v_color2;
flat out vec4 v_mat;

void main() {
    Tile tl = tiles[tile0 + gl_InstanceID];
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));
    vec2 px = mix(vec2(tl.rect.xy), vec2(tl.rect.zw), corner);
    gl_Position = vec4(px / vec2(target) * 2.0 - 1.0, 0.0, 1.0);
    gl_Layer = tl.info.x;
    v_layer = tl.info.x;
    v_frame = tl.info.y;
    int k = tl.info.z;
    v_k = k;
    v_model = models[tl.info.y * n_objects + k];
    v_c2w = cams[tl.info.y].c2w;
    v_w2c = cams[tl.info.y].w2c;
    Mat m = mats[k];
    v_color = m.color;
    v_color2 = m.color2;
    v_mat = m.p;
}
