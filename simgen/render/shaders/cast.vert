// One screen rectangle per instance, for one caster (the tile's tag k): the caster's light camera,
// bounding sphere and occluder radius go to the fragment shader as flat inputs.
uniform ivec2 target;
uniform int tile0;

flat out int v_layer;
flat out int v_frame;
flat out int v_k;
flat out mat4 v_lvp;
flat out vec4 v_sphere;  // centre, bounding radius
flat out float v_occ;    // occluder radius
flat out int v_self;     // 1: the caster may shadow itself (not convex)
flat out mat4 v_c2w;     // the frame's camera
flat out mat4 v_w2c;

void main() {
    Tile tl = tiles[tile0 + gl_InstanceID];
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));
    vec2 px = mix(vec2(tl.rect.xy), vec2(tl.rect.zw), corner);
    gl_Position = vec4(px / vec2(target) * 2.0 - 1.0, 0.0, 1.0);
    gl_Layer = tl.info.x;
    v_layer = tl.info.x;
    v_frame = tl.info.y;
    v_k = tl.info.z;
    int i = tl.info.y * n_objects + tl.info.z;
    v_lvp = light_vp[i];
    v_sphere = vec4(spheres[i].xyz, mats[tl.info.z].q.x);
    v_occ = spheres[i].w;
    v_self = int(mats[tl.info.z].q.z);
    v_c2w = cams[tl.info.y].c2w;
    v_w2c = cams[tl.info.y].w2c;
}
