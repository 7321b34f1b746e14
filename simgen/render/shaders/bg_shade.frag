// The background inside a tile, re-shaded with the shadows and ambient occlusion of the objects of
// its frame (the shadow mask), where no object is (stencil 0); into the frame's colour and Y planes.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

layout(location = 0) out vec4 o_rgba;
layout(location = 1) out float o_y;

void main() {
    vec3 c8 = quantize((background_display(ivec2(gl_FragCoord.xy), v_layer, moving == 1 ? v_layer : 0)));
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);
}
