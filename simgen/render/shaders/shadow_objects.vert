// Depth of every object of every frame of a chunk into its own shadow-map layer
// ((t - frame0) * n_objects + k), seen from the key light by an orthographic camera fitted to it.
layout(location = 0) in vec3 position;
layout(location = 2) in float obj;

void main() {
    int t = frame0 + gl_InstanceID;
    int k = int(obj + 0.5);
    int i = t * n_objects + k;
    gl_Position = light_vp[i] * models[i] * vec4(position, 1.0);
    gl_Layer = gl_InstanceID * n_objects + k;
}
