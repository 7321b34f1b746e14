// The environment behind everything (background, at pixel centres), in high range and as 8-bit
// colour and Y.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;
flat in mat4 v_c2w;

layout(location = 0) out vec4 o_a;
layout(location = 1) out vec4 o_rgba;
layout(location = 2) out float o_y;

void main() {
    vec2 uv = cv_pixel(gl_FragCoord.xy);
    Cam cam;
    cam.c2w = v_c2w;
    vec3 e = environment(view_dir(cam, uv), uv);
    o_a = vec4(e, 1.0);
    vec3 c8 = quantize(e);  // the environment as given (surfaces are tone-mapped)
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);
}
