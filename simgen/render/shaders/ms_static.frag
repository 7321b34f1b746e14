// Multisampled coverage of the static geometry (double-sided, as pyrender draws its colour pass):
// each sample keeps the id of the nearest static (0: the environment).
uniform int static_id;

layout(location = 0) out uint o_id;

void main() { o_id = uint(static_id); }
