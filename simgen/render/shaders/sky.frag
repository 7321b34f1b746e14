// The environment behind everything (background pass, multisampled).
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

layout(location = 0) out vec4 o_a;

void main() {
    vec2 uv = cv_pixel(gl_FragCoord.xy);
    o_a = vec4(environment(view_dir(cams[v_frame], uv), uv), 1.0);
}
