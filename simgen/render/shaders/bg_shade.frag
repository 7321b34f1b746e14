// The background inside a tile, re-shaded with the shadows and ambient occlusion of the objects of
// its frame (the shadow mask); written to the frame's colour and Y planes, and kept for the resolve.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform sampler2DArray bg_a;    // resolved colour (static shadows in)
uniform sampler2DArray bg_key;  // key light direct term, a = metric depth (0: no surface)
uniform sampler2DArray bg_amb;  // ambient term, a = static shadow at the pixel centre
uniform sampler2DArray vis;     // shadow mask: r = key light visibility, a = ambient occlusion

layout(location = 0) out vec4 o_rgba;
layout(location = 1) out float o_y;
layout(location = 2) out vec4 o_bg;

void main() {
    ivec3 ij = ivec3(ivec2(gl_FragCoord.xy), moving == 1 ? v_layer : 0);
    vec3 c = texelFetch(bg_a, ij, 0).rgb;
#ifdef SHADOWS
    vec4 kz = texelFetch(bg_key, ij, 0);
    if (kz.a > 0.0) {
        vec4 am = texelFetch(bg_amb, ij, 0);
        vec4 m = texelFetch(vis, ivec3(ivec2(gl_FragCoord.xy), v_layer), 0);
        c -= (1.0 - m.a) * am.rgb + max(am.a - m.r, 0.0) * kz.rgb;
    }
#endif
    vec3 c8 = quantize(tonemap(c));
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);
    o_bg = vec4(c8, 1.0);
}
