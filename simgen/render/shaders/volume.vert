// A caster's reach as geometry: a prism along the key light around object k of frame t (instance i:
// t = frame0 + i / n_objects, k = i % n_objects), from behind its bounding sphere (and its contact
// occlusion), or from the height of the highest receiver, to below the lowest receiver, as wide as the object's outline seen from the light with its widest penumbra
// (or the contact occlusion's reach). Drawn
// with depth and stencil tests so that the fragment shader runs only where the visible surface
// lies inside the box. The caster's data go to the fragment shader as flat inputs.
uniform float receivers_z;  // the lowest point of the static geometry (world z)
uniform float receivers_top;  // its highest point: the box starts no higher along the light
layout(std430, binding = 7) readonly buffer Reach { vec2 reaches[]; };  // [t * n_objects + k]: the contact
                                  // occlusion's reach, 0 where no static lies within it (then zero there);
                                  // the radius of the object's outline seen along the light

flat out int v_layer;
flat out int v_frame;
flat out int v_k;
flat out mat4 v_lvp;
flat out vec4 v_sphere;  // centre, bounding radius
flat out float v_occ;    // occluder radius
flat out int v_self;     // 1: the caster may shadow itself (not convex)
flat out mat4 v_c2w;     // the frame's camera
flat out mat4 v_w2c;

// an octagonal prism around the axis (not a box: the reach is a cylinder, and the box's corners,
// 17 % of its cross-section, hold only fragments that change nothing): the octagon's corners
// (x, y), in half widths, its sides at distance 1 from the axis; corner c < 8 on the near cap,
// c - 8 on the far one; the triangles face outward
const float T8 = 0.41421357;  // tan(pi / 8), rounded up
const vec2 OCT[8] = vec2[](vec2(1.0, T8), vec2(T8, 1.0), vec2(-T8, 1.0), vec2(-1.0, T8),
                           vec2(-1.0, -T8), vec2(-T8, -1.0), vec2(T8, -1.0), vec2(1.0, -T8));
const int PRISM[84] = int[](8, 9, 10, 8, 10, 11, 8, 11, 12, 8, 12, 13, 8, 13, 14, 8, 14, 15,  // far cap
                            0, 2, 1, 0, 3, 2, 0, 4, 3, 0, 5, 4, 0, 6, 5, 0, 7, 6,            // near cap
                            0, 1, 9, 0, 9, 8, 1, 2, 10, 1, 10, 9, 2, 3, 11, 2, 11, 10, 3, 4, 12, 3, 12, 11,
                            4, 5, 13, 4, 13, 12, 5, 6, 14, 5, 14, 13, 6, 7, 15, 6, 15, 14, 7, 0, 8, 7, 8, 15);

void main() {
    int layer = gl_InstanceID / n_objects;
    int k = gl_InstanceID - layer * n_objects;
    int t = frame0 + layer;
    int i = t * n_objects + k;
    vec4 s = spheres[i];
    float R = mats[k].q.x;
    vec3 L = -key_dir;  // the light's travel
    vec3 x = normalize(abs(L.z) < 0.99 ? cross(vec3(0.0, 0.0, 1.0), L) : cross(vec3(1.0, 0.0, 0.0), L));
    vec3 y = cross(L, x);
    float reach = reaches[i].x;
    float outline = reaches[i].y;  // no texel of the shadow map farther than this from the axis is covered
    float depth = L.z < -0.05 ? (s.z - receivers_z + R) / -L.z : 50.0;  // down to the lowest receiver
    depth = clamp(depth, 0.0, 50.0) + R;
    float span = 2.0 * R * 1.05;
    float pen = min(PENUMBRA0 + PENUMBRA_SLOPE * depth, PENUMBRA_TEXELS * span / obj_shadow_size);
    // as wide as the shadow can reach: its penumbra plus what the filter adds (the taps' normal
    // offset, 1.5 texels; the disk's at least half a texel; the bilinear taps' texel, sqrt 2)
    float half_w = max(outline + pen + PCF_REACH_TEXELS * span / obj_shadow_size, reach) * 1.02;
    // from behind the sphere, or from where the box first dips below the highest static point (no
    // static surface lies above it: the box keeps every one it held, and covers far less screen)
    float near = -max(R, reach) * 1.02;
    if (L.z < -0.05) near = max(near, (s.z - receivers_top - half_w * abs(y.z)) / -L.z - 1e-3);
    // to where its highest corner passes below the lowest static point (no static surface lies
    // lower: the prism keeps every one it held, and its back faces cover far less screen)
    float far = depth;
    if (L.z < -0.05) far = min(far, (s.z - receivers_z + half_w * (abs(x.z) + abs(y.z))) / -L.z + 1e-3);
    int c = PRISM[gl_VertexID];
    vec2 o = OCT[c & 7] * half_w;
    vec3 p = s.xyz + o.x * x + o.y * y + (c >= 8 ? far : near) * L;
    Cam cam = cams[t];
    gl_Position = P * cam.V * vec4(p, 1.0);
    gl_Layer = layer;
    v_layer = layer;
    v_frame = t;
    v_k = k;
    v_lvp = light_vp[i];
    v_sphere = vec4(s.xyz, R);
    v_occ = s.w;
    v_self = int(mats[k].q.z);
    v_c2w = cam.c2w;
    v_w2c = cam.w2c;
}
