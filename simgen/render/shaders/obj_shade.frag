// One object (the tile's; its pixels pass the stencil test), shaded once per pixel (deferred) from
// the id pass: material pattern in the
// body frame, every light, the key light through the shadow mask (objects) and the static shadow
// map, ambient occlusion from the other objects (shadow mask). Written to the output planes (edge
// pixels are then re-done by the resolve) and kept for the resolve.
flat in int v_layer;
flat in int v_frame;
flat in int v_k;
flat in mat4 v_model;
flat in mat4 v_c2w;
flat in mat4 v_w2c;
flat in vec4 v_color;
flat in vec4 v_color2;
flat in vec4 v_mat;

uniform sampler2DArray gbuf;  // world normal, metric depth

layout(location = 0) out vec4 o_obj;
layout(location = 1) out vec4 o_rgba;
layout(location = 2) out float o_y;

void main() {
    ivec3 ij = ivec3(ivec2(gl_FragCoord.xy), v_layer);
    vec4 g = texelFetch(gbuf, ij, 0);
    Cam c;
    c.c2w = v_c2w;
    c.w2c = v_w2c;
    vec3 p = unproject_cv(c, cv_pixel(gl_FragCoord.xy), g.w);
    vec3 b = transpose(mat3(v_model)) * (p - v_model[3].xyz);  // body frame (rigid: the inverse rotation is the transpose)
    Mat m;
    m.color = v_color;
    m.color2 = v_color2;
    m.p = v_mat;
    float footprint = (ortho == 1 ? 1.0 : g.w) / intr.y;  // metres per pixel at this depth
    vec3 a = albedo(m, b, footprint);
    vec3 v = ortho == 1 ? -v_c2w[2].xyz : normalize(v_c2w[3].xyz - p);
    vec3 n = normalize(g.xyz);
    if (dot(n, v) < 0.0) n = -n;
    vec3 key;
    vec3 col = direct_all(a, m.p.y, m.p.z, n, v, key);
#ifdef SHADOWS
#ifdef STATIC_SHADOW
    vec2 rot = ign_rotation(gl_FragCoord.xy);
#else
    vec2 rot = vec2(1.0, 0.0);
#endif
    vec4 sm = texelFetch(vis, ij, 0);
    col += ambient(n) * a * sm.a + key * min(sm.r, static_shadow_vis(p, n, rot));
#else
    col += ambient(n) * a + key;
#endif
    vec3 c8 = quantize(tonemap(col));
    o_obj = vec4(c8, 1.0);
    o_rgba = o_obj;
    o_y = luma(c8);
}
