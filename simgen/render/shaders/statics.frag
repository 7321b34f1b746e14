// Static geometry lit once per background. Two variants:
//  (default) multisampled colour: ambient + every light, the key light through the static shadow map;
//  SPLIT (single sample, front faces only, as pyrender's segmentation pass draws them, so the depth
//  buffer holds the same values): the key light's direct term (a = metric depth), the ambient term
//  (a = static shadow), the normal and the metric depth, which the tile passes re-shade with.
in vec3 v_world;
in vec3 v_normal;
in vec2 v_uv;
flat in int v_t;

uniform sampler2D tex;
uniform vec3 color;
uniform float rough;
uniform float ks;

#ifdef SPLIT
layout(location = 0) out vec4 o_key;
layout(location = 1) out vec4 o_amb;
layout(location = 2) out vec4 o_nrm;
layout(location = 3) out float o_depth;
#else
layout(location = 0) out vec4 o_a;
#endif

void main() {
#if defined(TEXTURED) && defined(SPLIT)
    // isotropic filtering here (the split terms only modulate shadows; anisotropic filtering costs)
    vec2 st = v_uv * vec2(textureSize(tex, 0));
    float lod = 0.5 * log2(max(max(dot(dFdx(st), dFdx(st)), dot(dFdy(st), dFdy(st))), 1e-8));
    vec3 a = textureLod(tex, v_uv, lod).rgb;
#elif defined(TEXTURED)
    vec3 a = texture(tex, v_uv).rgb;  // a texture replaces the colour (as in the pyrender reference)
#else
    vec3 a = color;
#endif
    Cam c = cams[v_t];
    vec3 v = ortho == 1 ? -c.c2w[2].xyz : normalize(c.c2w[3].xyz - v_world);
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
#ifdef SPLIT
    float z = (c.w2c * vec4(v_world, 1.0)).z;
    o_key = vec4(key, z);
    o_amb = vec4(amb, s);
    o_nrm = vec4(n, 0.0);
    o_depth = z;
#else
    o_a = vec4(amb + rest + key * s, 1.0);
#endif
}
