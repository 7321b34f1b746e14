// BT.601 limited-range chroma of 2x2 pixel blocks (the encoder's U and V planes, half size).
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform sampler2DArray rgba;

layout(location = 0) out float o_u;
layout(location = 1) out float o_v;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy) * 2;
    vec3 s = texelFetch(rgba, ivec3(p, v_layer), 0).rgb + texelFetch(rgba, ivec3(p + ivec2(1, 0), v_layer), 0).rgb
           + texelFetch(rgba, ivec3(p + ivec2(0, 1), v_layer), 0).rgb + texelFetch(rgba, ivec3(p + ivec2(1, 1), v_layer), 0).rgb;
    s *= 0.25;
    o_u = dot(s, vec3(-0.148223, -0.290993, 0.439216)) + 128.0 / 255.0;
    o_v = dot(s, vec3(0.439216, -0.367788, -0.071427)) + 128.0 / 255.0;
}
