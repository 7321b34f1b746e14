// Shadows of one caster (drawn as its reach, shaders/volume.vert, or as its tiles, shaders/cast.vert),
// blended by minimum (the darkest caster wins): the key light's visibility through object k's shadow map (r) and its contact
// occlusion (a) at the surface each pixel shows, kept for the objects' shading and the resolve (the
// shadow mask). Two variants, the stencil telling which pixels each runs on:
//  RECEIVER_BG: the background, also re-shaded with them straight into the frame's colour and Y
//    planes (which start as the background; white where nothing darkens it: no change under the
//    minimum blending);
//  RECEIVER_OBJ: the objects (the ones it may shadow, itself if it is not convex; always its tiles).
flat in int v_layer;
flat in int v_frame;
flat in int v_k;
flat in mat4 v_lvp;
flat in vec4 v_sphere;
flat in float v_occ;
flat in int v_self;  // 1: the caster may shadow itself (not convex)
flat in mat4 v_c2w;
flat in mat4 v_w2c;

uniform usampler2DArray ids;
uniform sampler2DArray gbuf;    // objects: normal, metric depth
uniform sampler2DArray bg_nrm;

layout(location = 0) out vec4 o_vis;
#ifdef RECEIVER_BG
layout(location = 1) out vec4 o_rgba;
layout(location = 2) out float o_y;
#endif

void main() {
    ivec3 ij = ivec3(ivec2(gl_FragCoord.xy), v_layer);
    ivec3 bij = ivec3(ij.xy, moving == 1 ? v_layer : 0);
#ifdef RECEIVER_BG
    vec4 kz = texelFetch(bg_key, bij, 0);
    float z = kz.a;
    vec3 n = texelFetch(bg_nrm, bij, 0).xyz;
    bool own = false;
#else
    vec4 g = texelFetch(gbuf, ij, 0);
    float z = g.w;
    vec3 n = normalize(g.xyz);
    bool own = texelFetch(ids, ij, 0).r == uint(v_k + 1);
#endif
    Cam c;
    c.c2w = v_c2w;
    c.w2c = v_w2c;
    vec3 p = unproject_cv(c, cv_pixel(gl_FragCoord.xy), z);
#ifdef RECEIVER_OBJ
    vec3 v = ortho == 1 ? -v_c2w[2].xyz : normalize(v_c2w[3].xyz - p);
    if (dot(n, v) < 0.0) n = -n;  // the surface faces the camera
#endif
    // no discard (llvmpipe would then test depth and stencil after the shader): out of reach,
    // vis = ao = 1 change nothing under the minimum blending
    vec3 w = p - v_sphere.xyz;
    vec3 L = key_dir;
    float behind = -dot(w, L);
    vec3 perp = w + behind * L;
    float reach = v_sphere.w + PENUMBRA0 + PENUMBRA_SLOPE * max(behind - v_sphere.w, 0.0);
    bool shadowed = z > 0.0 && behind > -v_sphere.w && dot(perp, perp) < reach * reach && (!own || v_self == 1);
    vec2 rot = ign_rotation(gl_FragCoord.xy);
    float vis = shadowed ? caster_shadow(p, n, v_lvp, v_sphere.xyz, v_sphere.w, float(v_layer * n_objects + v_k), rot) : 1.0;
#ifdef RECEIVER_BG
    float ao = z > 0.0 ? caster_ao(p, n, v_sphere.xyz, v_occ) : 1.0;  // contact occlusion on the statics
    o_vis = vec4(vis, 1.0, 1.0, ao);
    vec3 c8 = quantize(background_darkened_min(ij.xy, bij.z, vis, ao));
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);  // white: 235 / 255, no less than any Y
#else
    o_vis = vec4(vis, 1.0, 1.0, 1.0);
#endif
}
