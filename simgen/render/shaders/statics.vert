// Static geometry (floor, ramps) into the background layers: instance i draws layer i with the camera
// of frame bg_frame0 + i (a moving camera) or frame 0 (a static one). gl_Position as in pyrender.
layout(location = 0) in vec3 position;  // the static's own frame
layout(location = 1) in vec3 normal;
layout(location = 2) in vec2 uv;

uniform mat4 M;       // the static's pose
uniform mat4 inst_m;  // identity
uniform int bg_frame0;

out vec3 v_world;
out vec3 v_normal;
out vec2 v_uv;
flat out int v_t;
flat out vec3 v_cam_pos;  // camera centre and optical axis in the world, the row of w2c giving depth
flat out vec3 v_cam_axis;
flat out vec4 v_depth_row;

void main() {
    int t = moving == 1 ? bg_frame0 + gl_InstanceID : 0;
    mat4 V = cams[t].V;
    mat4 light_matrix = P * V;
    gl_Position = light_matrix * M * inst_m * vec4(position, 1.0);
    gl_Layer = gl_InstanceID;
    v_world = (M * vec4(position, 1.0)).xyz;
    v_normal = mat3(M) * normal;
    v_uv = uv;
    v_t = t;
    // per vertex, not per fragment: llvmpipe loads storage buffers lane by lane
    v_cam_pos = cams[t].c2w[3].xyz;
    v_cam_axis = cams[t].c2w[2].xyz;
    mat4 w2c = cams[t].w2c;
    v_depth_row = vec4(w2c[0].z, w2c[1].z, w2c[2].z, w2c[3].z);
}
