// Static geometry lit once per background, at pixel centres, front faces only (as pyrender's
// segmentation pass draws them, so the depth buffer holds the same values): the full colour (every
// light, the key light through the static shadow map) in high range and as 8-bit colour and Y; the
// key light's direct term (a = metric depth) and the ambient term (a = static shadow) that the tile
// passes re-shade with; the normal; metric depth; the static's id (for the anti-aliasing resolve).
in vec3 v_world;
in vec3 v_normal;
in vec2 v_uv;
flat in int v_t;
flat in vec3 v_cam_pos;
flat in vec3 v_cam_axis;
flat in vec4 v_depth_row;

uniform sampler2D tex;
uniform vec3 color;
uniform float rough;
uniform float ks;
uniform int static_id;

layout(location = 0) out vec4 o_a;
layout(location = 1) out vec4 o_rgba;
layout(location = 2) out float o_y;
layout(location = 3) out vec4 o_key;
layout(location = 4) out vec4 o_amb;
layout(location = 5) out vec4 o_nrm;
layout(location = 6) out float o_depth;
layout(location = 7) out uint o_sid;

// anisotropic filtering by hand: ANISO_TAPS trilinear taps along the longer axis of the pixel's
// footprint in the texture (Mesa's built-in anisotropic filtering costs ~10x more on llvmpipe)
#define ANISO_TAPS 2
vec3 sample_aniso(sampler2D t, vec2 uv) {
    vec2 sz = vec2(textureSize(t, 0));
    vec2 ex = dFdx(uv), ey = dFdy(uv);
    float lx = dot(ex * sz, ex * sz), ly = dot(ey * sz, ey * sz);
    vec2 major = lx > ly ? ex : ey;
    float lmaj = sqrt(max(lx, ly)), lmin = sqrt(min(lx, ly));
    float lod = log2(max(max(lmaj / float(ANISO_TAPS), lmin), 1e-6));
    vec3 s = vec3(0.0);
    for (int i = 0; i < ANISO_TAPS; i++) s += textureLod(t, uv + major * ((float(i) + 0.5) / float(ANISO_TAPS) - 0.5), lod).rgb;
    return s / float(ANISO_TAPS);
}

void main() {
#ifdef TEXTURED
    vec3 a = sample_aniso(tex, v_uv);  // a texture replaces the colour (as in the pyrender reference)
#else
    vec3 a = color;
#endif
    vec3 v = ortho == 1 ? -v_cam_axis : normalize(v_cam_pos - v_world);
    vec3 n = normalize(v_normal);
    if (dot(n, v) < 0.0) n = -n;
#ifdef STATIC_SHADOW
    vec2 rot = ign_rotation(gl_FragCoord.xy);
#else
    vec2 rot = vec2(1.0, 0.0);
#endif
    vec3 key;
    vec3 amb = ambient(n) * a;
    vec3 rest = direct_all(a, rough, ks, n, v, key);
    float s = static_shadow_vis(v_world, n, rot);
    float z = dot(v_depth_row, vec4(v_world, 1.0));
    vec3 full = amb + rest + key * s;
    o_a = vec4(full, 1.0);
    vec3 c8 = quantize(tonemap(full));
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);
    o_key = vec4(key, z);
    o_amb = vec4(amb, s);
    o_nrm = vec4(n, 0.0);
    o_depth = z;
    o_sid = uint(static_id);
}
