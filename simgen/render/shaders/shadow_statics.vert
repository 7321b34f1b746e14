// Depth of the static casters (ramps, boxes) seen from the key light: one map per video.
layout(location = 0) in vec3 position;
uniform mat4 M;

void main() {
    gl_Position = static_vp * M * vec4(position, 1.0);
}
