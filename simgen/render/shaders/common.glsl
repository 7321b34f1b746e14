// simgen batched renderer: declarations and functions shared by every program.
// Frames of a video are drawn as layers of array textures (gl_Layer = frame within the chunk);
// per-frame data lives in shader storage buffers indexed by the absolute frame t.
// Mesa's llvmpipe runs both sides of a branch and every loop body at least once: optional work is
// chosen with #defines (SHADOWS, STATIC_SHADOW, PBR, TEXTURED), and skipped per pixel only by discard.

struct Cam {
    mat4 V;    // OpenGL view matrix, exactly as pyrender computes it (inverse of cam_to_world @ diag(1,-1,-1,1))
    mat4 c2w;  // OpenCV cam_to_world (x right, y down, z forward)
    mat4 w2c;  // its inverse
};

struct Mat {
    vec4 color;   // rgb, a = pattern seed
    vec4 color2;  // rgb, a = metres per pattern period
    vec4 p;       // x = pattern id, y = roughness, z = specular strength ks, w = unused
    vec4 q;       // x = bounding radius (shadow maps), y = occluder radius (ambient occlusion),
                  // z = 1 if the object can shadow itself (not convex)
};

struct Tile {
    ivec4 rect;  // x0, y0, x1, y1 in GL window pixels (y up), x1 / y1 exclusive
    ivec4 info;  // x = layer (frame within the chunk), y = absolute frame, z = object bit mask
};

layout(std430, binding = 0) readonly buffer Models { mat4 models[]; };        // [t * n_objects + k]
layout(std430, binding = 1) readonly buffer Cams { Cam cams[]; };             // [t]
layout(std430, binding = 2) readonly buffer Mats { Mat mats[]; };             // [k]
layout(std430, binding = 3) readonly buffer LightMats { mat4 light_vp[]; };   // [t * n_objects + k]
layout(std430, binding = 4) readonly buffer Tiles { Tile tiles[]; };
layout(std430, binding = 6) readonly buffer Spheres { vec4 spheres[]; };      // [t * n_objects + k]: centre, AO radius

uniform mat4 P;           // OpenGL projection (pyrender's formula)
uniform vec4 intr;        // fx, fy, cx, cy (OpenCV pixels)
uniform int ortho;        // 1: orthographic camera
uniform ivec2 size;       // W, H
uniform int n_objects;
uniform int n_frames;     // frames in the video
uniform int frame0;       // absolute frame of layer 0 of this chunk
uniform int moving;       // 1: the camera moves (backgrounds are per frame)

// ---- lights ---------------------------------------------------------------------------------
#define MAX_LIGHTS 8
uniform int n_lights;
uniform vec3 light_dir[MAX_LIGHTS];  // unit vectors toward each light
uniform vec3 light_rgb[MAX_LIGHTS];  // colour * intensity
uniform int key_light;               // index of the shadow-casting light, -1 none
uniform vec3 key_dir;                // light_dir[key_light] (a plain uniform: cheaper than an indexed one)
uniform vec3 amb_sky;
uniform vec3 amb_ground;

// ---- environment ----------------------------------------------------------------------------
uniform vec3 env_zenith;
uniform vec3 env_horizon;
uniform vec3 env_ground;
uniform float env_yaw;
uniform float env_lod;
uniform sampler2D env_image;

// ---- background layers (re-shading) ----------------------------------------------------------
uniform sampler2DArray bg_a;    // colour, high range (static shadows in)
uniform sampler2DArray bg_key;  // key light direct term, a = metric depth (0: no surface)
uniform sampler2DArray bg_amb;  // ambient term, a = static shadow at the pixel centre
uniform sampler2DArray vis;     // shadow mask of the frame: r = key light visibility, a = ambient occlusion
uniform sampler2DArray bg_rgba; // the background as displayed (8-bit)

// ---- shadow maps ----------------------------------------------------------------------------
uniform sampler2DArray obj_shadow;  // depth, layer (t - frame0) * n_objects + k; compared in the shader
                                    // (Mesa 22's llvmpipe returns 0 from array shadow samplers)
uniform float obj_shadow_size;      // texels per side used (the map's corner of each layer)
uniform float obj_shadow_alloc;     // texels per side of the layers
uniform sampler2DShadow static_shadow;
uniform mat4 static_vp;
uniform float static_texel;         // metres per texel of the static map

const float PI = 3.14159265358979;

// penumbra grows with the distance between receiver and caster along the light
const float PENUMBRA0 = 0.004;      // metres at contact
const float PENUMBRA_SLOPE = 0.02;  // metres per metre of distance
const float PENUMBRA_TEXELS = 4.0;  // at most (PCF_TAPS taps do not cover wider penumbrae smoothly)
const float AO_REACH = 1.6;         // occluder radii (simgen/render/tiles.py AO_REACH)
const float PCF_REACH_TEXELS = 3.5; // the filter's reach past the penumbra (simgen/render/shadows.py)


// BT.601 limited-range luma of an 8-bit colour (the encoder's Y plane)
float luma(vec3 c8) { return dot(c8, vec3(0.256788, 0.504129, 0.097906)) + 16.0 / 255.0; }

// the 8-bit value a colour in [0, 1] is stored as (so Y/U/V are computed from the stored colour)
vec3 quantize(vec3 c) { return floor(clamp(c, 0.0, 1.0) * 255.0 + 0.5) / 255.0; }

// display: values pass unchanged up to TONE_KNEE; brighter ones are compressed toward 1 (per
// channel, so highlights whiten as they would clip), instead of clipping (a clipped channel would
// not darken in a shadow: the shadow would only change its hue)
const float TONE_KNEE = 0.8;
vec3 tonemap(vec3 c) {
    vec3 over = max(c - TONE_KNEE, 0.0);
    return min(c, vec3(TONE_KNEE)) + (1.0 - TONE_KNEE) * (1.0 - exp(-over / (1.0 - TONE_KNEE)));
}

// OpenCV pixel (u right, v down, integer centres) of a GL fragment
vec2 cv_pixel(vec2 frag_xy) { return vec2(frag_xy.x - 0.5, float(size.y) - frag_xy.y - 0.5); }

vec2 project_cv(Cam c, vec3 world, out float z) {
    vec3 pc = (c.w2c * vec4(world, 1.0)).xyz;
    z = pc.z;
    vec2 xy = ortho == 1 ? pc.xy : pc.xy / pc.z;
    return xy * intr.xy + intr.zw;
}

// world point at OpenCV pixel uv with metric depth d (d along the optical axis)
vec3 unproject_cv(Cam c, vec2 uv, float d) {
    vec2 xy = (uv - intr.zw) / intr.xy;
    vec3 pc = ortho == 1 ? vec3(xy, d) : vec3(xy * d, d);
    return (c.c2w * vec4(pc, 1.0)).xyz;
}

// unit world direction of the view ray through OpenCV pixel uv
vec3 view_dir(Cam c, vec2 uv) {
    vec2 xy = (uv - intr.zw) / intr.xy;
    vec3 d = ortho == 1 ? vec3(0.0, 0.0, 1.0) : normalize(vec3(xy, 1.0));
    return normalize(mat3(c.c2w) * d);
}

#ifdef FRAGMENT
// whether any of the 8 neighbours of pixel xy (layer) has another value than the pixel in an
// integer texture (2 gathers): a pixel that multisampling can change has such a neighbour
bool near_edge(usampler2DArray t, ivec2 xy, int layer, uint c) {
    vec2 inv = 1.0 / vec2(textureSize(t, 0).xy);
    uvec4 a = textureGather(t, vec3((vec2(xy) + vec2(1.0)) * inv, float(layer)), 0);  // xy .. xy + (1, 1)
    uvec4 b = textureGather(t, vec3(vec2(xy) * inv, float(layer)), 0);                // xy - (1, 1) .. xy
    uvec4 cc = uvec4(c);
    return any(notEqual(a, cc)) || any(notEqual(b, cc));
}

// the background at bij (background layer) in high range with the key light's visibility `v` and
// ambient occlusion `ao`; `dark`: whether they darken a surface there
vec3 background_shadowed(ivec3 bij, float v, float ao, out bool dark) {
    vec3 c = texelFetch(bg_a, bij, 0).rgb;
    vec4 kz = texelFetch(bg_key, bij, 0);
    vec4 am = texelFetch(bg_amb, bij, 0);
    float d = (1.0 - ao) + max(am.a - v, 0.0);
    c -= (1.0 - ao) * am.rgb + max(am.a - v, 0.0) * kz.rgb;
    dark = kz.a > 0.0 && d > 0.0;
    return c;
}

// the background at pixel xy (background layer `bg_layer`) with the key light's visibility `v` and
// ambient occlusion `ao`, for display: surfaces tone-mapped, the environment as given; where
// nothing darkens it, the background as displayed, to the bit
vec3 background_darkened(ivec2 xy, int bg_layer, float v, float ao) {
    ivec3 bij = ivec3(xy, bg_layer);
    vec3 shown = texelFetch(bg_rgba, bij, 0).rgb;
#ifdef SHADOWS
    bool dark;
    vec3 c = background_shadowed(bij, v, ao, dark);
    if (dark) shown = tonemap(c);
#endif
    return shown;
}

// the same for a pass that blends by minimum over the background (the shadow mask): where nothing
// darkens it, white, which leaves the background as it is, to the bit, without reading it
vec3 background_darkened_min(ivec2 xy, int bg_layer, float v, float ao) {
    bool dark;
    vec3 c = background_shadowed(ivec3(xy, bg_layer), v, ao, dark);
    return dark ? tonemap(c) : vec3(1.0);
}

// the same with the frame's shadow mask (every caster)
vec3 background_display(ivec2 xy, int layer, int bg_layer) {
#ifdef SHADOWS
    vec4 m = texelFetch(vis, ivec3(xy, layer), 0);
    return background_darkened(xy, bg_layer, m.r, m.a);
#else
    return background_darkened(xy, bg_layer, 1.0, 1.0);
#endif
}

// the environment seen along world direction d (OpenCV pixel uv); the kind is compiled in:
// ENV_SKY (gradient by elevation), ENV_EQUIRECT / ENV_SCREEN (image), else flat
vec3 environment(vec3 d, vec2 uv) {
#if defined(ENV_SKY)
    return d.z >= 0.0 ? mix(env_horizon, env_zenith, sqrt(clamp(d.z, 0.0, 1.0)))
                      : mix(env_horizon, env_ground, clamp(-d.z * 6.0, 0.0, 1.0));
#elif defined(ENV_EQUIRECT)
    vec2 st = vec2(0.5 + (atan(d.y, d.x) - env_yaw) / (2.0 * PI), acos(clamp(d.z, -1.0, 1.0)) / PI);
    return textureLod(env_image, st, env_lod).rgb;
#elif defined(ENV_SCREEN)
    return textureLod(env_image, (uv + 0.5) / vec2(size), env_lod).rgb;
#else
    return env_zenith;
#endif
}

// ---- procedural materials (body frame) ---------------------------------------------------------
uint hash3(ivec3 p) {
    uint h = uint(p.x) * 0x8da6b343u ^ uint(p.y) * 0xd8163841u ^ uint(p.z) * 0xcb1ab31fu;
    h ^= h >> 16; h *= 0x7feb352du; h ^= h >> 15; h *= 0x846ca68bu; h ^= h >> 16;
    return h;
}
float vnoise(vec3 x) {  // value noise in [0, 1]
    ivec3 i = ivec3(floor(x));
    vec3 f = fract(x);
    vec3 u = f * f * (3.0 - 2.0 * f);
    float n000 = float(hash3(i)) / 4294967295.0;
    float n100 = float(hash3(i + ivec3(1, 0, 0))) / 4294967295.0;
    float n010 = float(hash3(i + ivec3(0, 1, 0))) / 4294967295.0;
    float n110 = float(hash3(i + ivec3(1, 1, 0))) / 4294967295.0;
    float n001 = float(hash3(i + ivec3(0, 0, 1))) / 4294967295.0;
    float n101 = float(hash3(i + ivec3(1, 0, 1))) / 4294967295.0;
    float n011 = float(hash3(i + ivec3(0, 1, 1))) / 4294967295.0;
    float n111 = float(hash3(i + ivec3(1, 1, 1))) / 4294967295.0;
    return mix(mix(mix(n000, n100, u.x), mix(n010, n110, u.x), u.y),
               mix(mix(n001, n101, u.x), mix(n011, n111, u.x), u.y), u.z);
}
float fbm(vec3 x) {
    return 0.5 * vnoise(x) + 0.25 * vnoise(2.03 * x + 17.1) + 0.125 * vnoise(4.01 * x + 31.7) + 0.0625 * vnoise(8.05 * x + 5.3);
}
// a square wave of period 1 (half 0, half 1) with edges softened over w periods
float soft_square(float x, float w) {
    float tri = abs(2.0 * fract(x) - 1.0);
    float e = clamp(2.0 * w, 1e-3, 0.5);
    return smoothstep(0.5 - e, 0.5 + e, tri);
}

// albedo of an object at body-frame point b (NOISE_PATTERNS: marble, wood, noise are compiled in;
// PATTERN n: only pattern n, for the object being shaded); footprint = metres per pixel there
// (patterns finer than a pixel fade to their mean)
vec3 albedo(Mat m, vec3 b, float footprint) {
#ifdef PATTERN
    const int pat = PATTERN;  // the other patterns' arithmetic is compiled out
#else
    int pat = int(m.p.x + 0.5);
#endif
    vec3 c1 = m.color.rgb, c2 = m.color2.rgb;
    float s = max(m.color2.a, 1e-4);
    float seed = m.color.a;
    vec3 x = b / s + vec3(seed * 7.31, seed * 3.17, seed * 5.93);
    float w = footprint / s;  // pixel footprint in pattern periods
    float keep = 1.0 - smoothstep(0.35, 0.8, w);
    float octants = b.x * b.y * b.z < 0.0 ? 1.0 : 0.0;
    float stripes = soft_square(x.x, w);
    float checks = abs(abs(soft_square(x.x, w) - soft_square(x.y, w)) - soft_square(x.z, w));
#ifdef NOISE_PATTERNS
    float turb = fbm(x * 1.5);
    float marble = pow(1.0 - abs(sin((x.x + 2.5 * turb) * 2.0 * PI)), 6.0);
    float wood = smoothstep(0.25, 0.75, fract(length(x.xy) + 0.6 * turb)) * 0.8 + 0.2 * vnoise(x * vec3(8.0, 8.0, 0.5));
    float noise = smoothstep(0.3, 0.7, turb);
#else  // no object of the video has a noise-based pattern
    float marble = 0.0, wood = 0.0, noise = 0.0;
#endif
    float t = pat == 1 ? octants : pat == 2 ? stripes : pat == 3 ? checks : pat == 4 ? marble
            : pat == 5 ? wood : pat == 6 ? noise : 0.0;
    float mean = pat == 1 ? t : 0.5;
    return mix(c1, c2, mix(pat == 0 ? 0.0 : mean, t, pat == 1 ? 1.0 : keep));
}

// ---- lighting ---------------------------------------------------------------------------------
vec3 ambient(vec3 n) { return mix(amb_ground, amb_sky, 0.5 + 0.5 * n.z); }

// direct light of light i on a surface (albedo a, roughness r, specular strength ks)
vec3 direct(int i, vec3 a, float r, float ks, vec3 n, vec3 v) {
    vec3 l = light_dir[i];
    float nl = max(dot(n, l), 0.0);
    vec3 h = normalize(l + v);
    float nh = max(dot(n, h), 0.0);
#ifdef PBR
    float al = max(r * r, 0.02);
    float a2 = al * al;
    float dd = nh * nh * (a2 - 1.0) + 1.0;
    float D = a2 / (PI * dd * dd);
    float nv = max(dot(n, v), 1e-3);
    float kk = al * 0.5;
    float G = (nl / (nl * (1.0 - kk) + kk + 1e-6)) * (nv / (nv * (1.0 - kk) + kk));
    float F = 0.04 + 0.96 * pow(1.0 - max(dot(v, h), 0.0), 5.0);
    float spec = D * G * F / (4.0 * max(nl, 1e-3) * nv) * ks / 0.1575;
    return light_rgb[i] * nl * (a / PI + spec);
#else
    float shin = mix(96.0, 6.0, clamp(r, 0.0, 1.0));
    float sp = nl > 0.0 ? pow(nh, shin) : 0.0;
    return light_rgb[i] * (1.0 / PI) * (a * nl + ks * sp);
#endif
}

// every light but the key light, whose term is returned apart (so that it can be shadowed)
vec3 direct_all(vec3 a, float r, float ks, vec3 n, vec3 v, out vec3 key) {
    vec3 c = vec3(0.0);
    key = vec3(0.0);
#ifdef N_LIGHTS  // the count compiled in: an unrolled loop with constant indices (an indexed uniform
                 // costs a load per pixel on llvmpipe)
    for (int i = 0; i < N_LIGHTS; i++) {
#else
    for (int i = 0; i < n_lights; i++) {
#endif
        vec3 d = direct(i, a, r, ks, n, v);
        if (i == key_light) key = d; else c += d;
    }
    return c;
}

// ---- shadows ----------------------------------------------------------------------------------
// A per-pixel rotation of the PCF taps (cos, sin): 16 angles in a 4x4 Bayer order (fixed in screen
// space; a table, as trigonometry per pixel costs on a CPU rasteriser)
const vec2 ROTATIONS[16] = vec2[](vec2(1.000000, 0.000000), vec2(-1.000000, 0.000000), vec2(0.707107, 0.707107), vec2(-0.707107, -0.707107), vec2(-0.000000, -1.000000), vec2(0.000000, 1.000000), vec2(0.707107, -0.707107), vec2(-0.707107, 0.707107), vec2(0.382683, 0.923880), vec2(-0.382683, -0.923880), vec2(0.923880, 0.382683), vec2(-0.923880, -0.382683), vec2(0.923880, -0.382683), vec2(-0.923880, 0.382683), vec2(0.382683, -0.923880), vec2(-0.382683, 0.923880));
vec2 ign_rotation(vec2 p) { ivec2 q = ivec2(p) & 3; return ROTATIONS[q.x + 4 * q.y]; }

// one bilinear 2x2 depth comparison (what a shadow sampler with linear filtering does)
float shadow_tap(vec2 uv, float layer, float ref) {
    vec2 st = clamp(uv * obj_shadow_size - 0.5, vec2(0.0), vec2(obj_shadow_size - 1.001));  // stay in the used corner
    vec2 f = fract(st);
    vec4 g = textureGather(obj_shadow, vec3((floor(st) + 1.0) / obj_shadow_alloc, layer), 0);
    vec4 lit = step(vec4(ref), g);  // (u0,v1) (u1,v1) (u1,v0) (u0,v0)
    return mix(mix(lit.w, lit.z, f.x), mix(lit.x, lit.y, f.x), f.y);
}

#define PCF_TAPS 4
// a Vogel disk of unit radius
const vec2 VOGEL[PCF_TAPS] = vec2[](vec2(0.353553, 0.000000), vec2(-0.451544, 0.413652), vec2(0.069116, -0.787542), vec2(0.569142, 0.742346));

// rotated Vogel-disk PCF, each tap a bilinear comparison; rot = (cos, sin) of the disk's rotation
float pcf_layer(vec3 c, float layer, float radius, vec2 rot) {
    mat2 R = mat2(rot.x, rot.y, -rot.y, rot.x) * radius;
    float s = 0.0;
    for (int i = 0; i < PCF_TAPS; i++) s += shadow_tap(c.xy + R * VOGEL[i], layer, c.z);
    return s / float(PCF_TAPS);
}

// visibility of the key light at p (normal n) through one caster's shadow map: light camera lvp,
// bounding sphere (centre, R), map layer
float caster_shadow(vec3 p, vec3 n, mat4 lvp, vec3 centre, float R, float layer, vec2 rot) {
    float behind = -dot(p - centre, key_dir);  // distance past the centre along the light
    float pen = PENUMBRA0 + PENUMBRA_SLOPE * max(behind - R, 0.0);
    float span = 2.0 * R * 1.05;                            // metres across the map
    vec3 c = (lvp * vec4(p + n * (1.5 * span / obj_shadow_size), 1.0)).xyz * 0.5 + 0.5;
    c.z = min(c.z, 0.995);
    return pcf_layer(c, layer, clamp(pen / span * obj_shadow_size, 0.5, PENUMBRA_TEXELS) / obj_shadow_size, rot);
}

#ifdef STATIC_SHADOW
float static_shadow_vis(vec3 p, vec3 n, vec2 rot) {
    vec3 c = (static_vp * vec4(p + n * (1.5 * static_texel), 1.0)).xyz * 0.5 + 0.5;
    c.z = min(c.z, 0.995);
    mat2 R = mat2(rot.x, rot.y, -rot.y, rot.x) * (1.5 / float(textureSize(static_shadow, 0).x));
    float s = 0.0;
    for (int i = 0; i < 4; i++) s += texture(static_shadow, vec3(c.xy + R * VOGEL[i], c.z));
    return s * 0.25;
}
#else
float static_shadow_vis(vec3 p, vec3 n, vec2 rot) { return 1.0; }
#endif

// ambient occlusion of p (normal n) by a sphere (centre, radius r) standing for an object
float caster_ao(vec3 p, vec3 n, vec3 centre, float r) {
    vec3 w = centre - p;
    float d2 = max(dot(w, w), 1e-8);
    float d = sqrt(d2);
    float occ = clamp(dot(n, w) / d, 0.0, 1.0) * min(r * r / d2, 1.0) * smoothstep(AO_REACH * r, 1.05 * r, d);
    return 1.0 - 0.85 * occ;
}
#endif  // FRAGMENT
