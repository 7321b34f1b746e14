// The background's resolve: the average of the samples of its colour (anti-aliased edges of ramps
// and the horizon), kept in high range for re-shading, and as 8-bit colour with its Y plane.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform sampler2DMSArray ms_a;
uniform int samples;

layout(location = 0) out vec4 o_a;
layout(location = 1) out vec4 o_rgba;
layout(location = 2) out float o_y;

void main() {
    ivec3 ij = ivec3(ivec2(gl_FragCoord.xy), v_layer);
    vec4 s = vec4(0.0);
    for (int i = 0; i < samples; i++) s += texelFetch(ms_a, ij, i);
    s /= float(samples);
    o_a = s;
    vec3 c8 = floor(clamp(s.rgb, 0.0, 1.0) * 255.0 + 0.5) / 255.0;
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);
}
