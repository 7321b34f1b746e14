// Multisampled coverage, step 1, once per background layer: every sample at the background's depth
// at its pixel centre, so that static geometry hides the objects behind it. The frames' coverage
// passes start from copies of it inside the objects' tiles (ids cleared to 0, the background).
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform sampler2DArray bg_d;

layout(location = 0) out uint o_id;

void main() {
    o_id = 0u;
    gl_FragDepth = texelFetch(bg_d, ivec3(ivec2(gl_FragCoord.xy), moving == 1 ? v_layer : 0), 0).r;
}
