// One screen rectangle (a tile) per instance, drawn into the tile's layer.
uniform ivec2 target;  // size of the render target in pixels
uniform int tile0;     // index of the first tile of this draw

flat out int v_layer;
flat out int v_frame;
flat out uint v_mask;  // objects whose shadows / occlusion reach the tile
// the frame's camera and the next frame's (per vertex: llvmpipe reads storage buffers lane by lane,
// so fragment shaders take them from here; programs that do not read them drop them at link time)
flat out mat4 v_c2w;
flat out mat4 v_w2c_next;

void main() {
    Tile tl = tiles[tile0 + gl_InstanceID];
    vec2 corner = vec2(float(gl_VertexID & 1), float(gl_VertexID >> 1));
    vec2 px = mix(vec2(tl.rect.xy), vec2(tl.rect.zw), corner);
    gl_Position = vec4(px / vec2(target) * 2.0 - 1.0, 0.0, 1.0);
    gl_Layer = tl.info.x;
    v_layer = tl.info.x;
    v_frame = tl.info.y;
    v_mask = uint(tl.info.z);
    v_c2w = cams[tl.info.y].c2w;
    v_w2c_next = cams[min(tl.info.y + 1, n_frames - 1)].w2c;
}
