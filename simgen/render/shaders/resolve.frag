// MSAA resolve of the object tiles' edge pixels (marked in the stencil; the others were written by
// bg_shade / obj_shade): each sample takes the colour of what covers it (the id the coverage pass
// left): the re-shaded background for id 0, the shaded object at this pixel for the object seen at
// the pixel centre, else that object's colour at a neighbouring pixel.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;

uniform usampler2DMSArray ms_ids;
uniform usampler2DArray ids;
uniform sampler2DArray obj_shaded;
uniform int samples;

layout(location = 0) out vec4 o_rgba;
layout(location = 1) out float o_y;

void main() {
    ivec2 xy = ivec2(gl_FragCoord.xy);
    ivec3 ij = ivec3(xy, v_layer);
    uint c = texelFetch(ids, ij, 0).r;
    vec3 bg = quantize((background_display(xy, v_layer, moving == 1 ? v_layer : 0)));
    vec3 ob = c == 0u ? bg : texelFetch(obj_shaded, ij, 0).rgb;
    // the 4 neighbours, for samples covered by an object the pixel centre misses
    ivec2 hi = size - 1;
    ivec3 nb0 = ivec3(clamp(xy + ivec2(-1, 0), ivec2(0), hi), v_layer), nb1 = ivec3(clamp(xy + ivec2(1, 0), ivec2(0), hi), v_layer);
    ivec3 nb2 = ivec3(clamp(xy + ivec2(0, -1), ivec2(0), hi), v_layer), nb3 = ivec3(clamp(xy + ivec2(0, 1), ivec2(0), hi), v_layer);
    uvec4 nid = uvec4(texelFetch(ids, nb0, 0).r, texelFetch(ids, nb1, 0).r, texelFetch(ids, nb2, 0).r, texelFetch(ids, nb3, 0).r);
    vec3 nc0 = texelFetch(obj_shaded, nb0, 0).rgb, nc1 = texelFetch(obj_shaded, nb1, 0).rgb;
    vec3 nc2 = texelFetch(obj_shaded, nb2, 0).rgb, nc3 = texelFetch(obj_shaded, nb3, 0).rgb;
    vec3 sum = vec3(0.0);
    for (int s = 0; s < samples; s++) {
        uint si = texelFetch(ms_ids, ij, s).r;
        vec3 other = si == nid.w ? nc3 : si == nid.z ? nc2 : si == nid.y ? nc1 : si == nid.x ? nc0 : ob;
        sum += si == 0u ? bg : (si == c ? ob : other);
    }
    vec3 c8 = floor(sum / float(samples) * 255.0 + 0.5) / 255.0;
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);
}
