// Marks (stencil) the pixels that multisampling may change: those with a neighbour of another id
// (2 gathers). The resolve then runs on them only: llvmpipe skips fragments that fail an early
// stencil test, but runs the rest of a shader after a discard.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform usampler2DArray ids;

void main() {
    ivec2 xy = ivec2(gl_FragCoord.xy);
    vec2 inv = 1.0 / vec2(textureSize(ids, 0).xy);
    uvec4 a = textureGather(ids, vec3((vec2(xy) + vec2(1.0)) * inv, float(v_layer)), 0);  // xy .. xy + (1, 1)
    uvec4 b = textureGather(ids, vec3(vec2(xy) * inv, float(v_layer)), 0);                // xy - (1, 1) .. xy
    uvec4 c = uvec4(a.w);  // the pixel itself
    if (all(equal(a, c)) && all(equal(b, c))) discard;  // no neighbour of another id: not an edge
}
