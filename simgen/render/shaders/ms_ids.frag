// Multisampled coverage of the objects: each sample keeps the id of the nearest object (0: none).
flat in int v_k;

layout(location = 0) out uint o_id;

void main() { o_id = uint(v_k + 1); }
