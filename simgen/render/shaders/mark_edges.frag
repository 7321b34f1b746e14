// Marks (stencil) the pixels that multisampling may change: those with a neighbour of another id
// (2 gathers). The resolve then runs on them only: llvmpipe skips fragments that fail an early
// stencil test, but runs the rest of a shader after a discard.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform usampler2DArray ids;

void main() {
    ivec2 xy = ivec2(gl_FragCoord.xy);
    if (!near_edge(ids, xy, v_layer, texelFetch(ids, ivec3(xy, v_layer), 0).r)) discard;
}
