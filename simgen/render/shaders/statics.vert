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
}
