// Objects of every frame of a chunk in one instanced draw: instance i draws frame frame0 + i into
// layer i. gl_Position is computed exactly as pyrender's segmentation.vert computes it (same
// matrices, same operation order), so silhouettes and masks match the pyrender reference.
layout(location = 0) in vec3 position;  // body frame
layout(location = 1) in vec3 normal;    // body frame
layout(location = 2) in float obj;      // object index k

uniform mat4 inst_m;  // identity, applied like pyrender's per-instance matrix

out vec3 v_world;
out vec3 v_normal;
out vec3 v_next;      // the same surface point at frame t + 1 (world), for optical flow
flat out int v_k;
flat out int v_t;
flat out vec4 v_depth_row;  // the row of w2c that gives metric depth (storage buffers are read per
                            // vertex, not per fragment: llvmpipe loads them lane by lane)
#ifdef FLOW
flat out mat4 v_w2c;        // frame t's camera
flat out mat4 v_w2c_next;   // frame t + 1's
#endif

void main() {
    int t = frame0 + gl_InstanceID;
    int k = int(obj + 0.5);
    mat4 M = models[t * n_objects + k];
    mat4 V = cams[t].V;
    mat4 light_matrix = P * V;
    gl_Position = light_matrix * M * inst_m * vec4(position, 1.0);
    gl_Layer = gl_InstanceID;
    v_world = (M * vec4(position, 1.0)).xyz;
    v_normal = mat3(M) * normal;
#ifdef FLOW
    int tn = min(t + 1, n_frames - 1);
    v_next = (models[tn * n_objects + k] * vec4(position, 1.0)).xyz;
#else
    v_next = vec3(0.0);
#endif
    v_k = k;
    v_t = t;
    mat4 w2c = cams[t].w2c;
    v_depth_row = vec4(w2c[0].z, w2c[1].z, w2c[2].z, w2c[3].z);
#ifdef FLOW
    v_w2c = w2c;
    v_w2c_next = cams[tn].w2c;
#endif
}
