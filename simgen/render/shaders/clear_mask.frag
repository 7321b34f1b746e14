// Shadow mask, step 0: fully lit, unoccluded inside the tiles.
layout(location = 0) out vec4 o_vis;

void main() { o_vis = vec4(1.0); }
