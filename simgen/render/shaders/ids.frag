// Single-sample pass at pixel centres over the background's depth buffer: object id (the mask),
// metric depth, optical flow and the shading inputs (normal, exact depth) of the visible surface;
// and, before the depth test, each object's unoccluded silhouette: the first fragment of object k
// at a pixel sets bit k of that pixel and counts one pixel for (frame, k) (SIL_BITS, compiled in when
// some object is not convex; with every object convex and back faces culled, each fragment of object k
// is its only one at that pixel: counted without the bits, their clear and their atomics).
in vec3 v_world;
in vec3 v_normal;
in vec3 v_next;
flat in int v_k;
flat in int v_t;
flat in vec4 v_depth_row;
#ifdef FLOW
flat in mat4 v_w2c;
flat in mat4 v_w2c_next;
#endif

uniform int silhouettes;
layout(r32ui, binding = 0) uniform coherent uimage2DArray sil_bits;
layout(std430, binding = 5) buffer Counts { uint counts[]; };

layout(location = 0) out uint o_id;
layout(location = 1) out float o_depth;
layout(location = 2) out vec4 o_gbuf;  // world normal, metric depth (float32)
#ifdef FLOW
layout(location = 3) out vec2 o_flow;  // (without flow the pass draws into the first three targets only)
#endif

void main() {
    if (silhouettes == 1 && v_k < 32) {
#ifdef SIL_BITS
        uint bit = 1u << uint(v_k);
        uint prev = imageAtomicOr(sil_bits, ivec3(ivec2(gl_FragCoord.xy), gl_Layer), bit);
        if ((prev & bit) == 0u) atomicAdd(counts[(v_t - frame0) * n_objects + v_k], 1u);
#else  // every object convex: back faces culled, each pixel gets at most one fragment of it
        atomicAdd(counts[(v_t - frame0) * n_objects + v_k], 1u);
#endif
    }
    o_id = uint(v_k + 1);
#ifdef STENCIL_EXPORT
    gl_FragStencilRefARB = v_k + 1;  // the stencil keeps the visible object's id, for the shading passes
#endif                               // (without the extension the renderer copies o_id into it afterwards)
    float z = dot(v_depth_row, vec4(v_world, 1.0));
    o_depth = z;
    o_gbuf = vec4(normalize(v_normal), z);
#ifdef FLOW
    o_flow = vec2(0.0);
    if (v_t + 1 < n_frames) {
        Cam c0, c1;
        c0.w2c = v_w2c;
        c1.w2c = v_w2c_next;
        float z0, z1;
        o_flow = project_cv(c1, v_next, z1) - project_cv(c0, v_world, z0);
    }
#endif
}
