// Multisampled coverage, step 1: inside a tile every sample starts as background (id 0) at the
// background's depth, so that static geometry hides the objects behind it.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform sampler2DArray bg_d;

layout(location = 0) out uint o_id;

void main() {
    o_id = 0u;
    gl_FragDepth = texelFetch(bg_d, ivec3(ivec2(gl_FragCoord.xy), moving == 1 ? v_layer : 0), 0).r;
}
