// Optical flow of the background under camera motion: a surface point seen at a pixel of frame t,
// projected by the camera of frame t + 1; pixels without a surface move with the camera's rotation.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;
flat in mat4 v_c2w;
flat in mat4 v_w2c_next;

uniform sampler2DArray bg_z;

layout(location = 0) out vec2 o_flow;

void main() {
    int t = v_frame;
    if (t + 1 >= n_frames) { o_flow = vec2(0.0); return; }
    vec2 uv = cv_pixel(gl_FragCoord.xy);
    float d = texelFetch(bg_z, ivec3(ivec2(gl_FragCoord.xy), v_layer), 0).r;
    Cam c0, c1;
    c0.c2w = v_c2w;
    c1.w2c = v_w2c_next;
    float z;
    if (d > 0.0) {
        o_flow = project_cv(c1, unproject_cv(c0, uv, d), z) - uv;
    } else if (ortho == 1) {
        o_flow = vec2(0.0);
    } else {
        vec3 pc = mat3(c1.w2c) * view_dir(c0, uv);
        o_flow = pc.xy / pc.z * intr.xy + intr.zw - uv;
    }
}
