// The background's anti-aliasing, on its edge pixels (marked in the stencil; the others keep what
// the centre pass wrote): each sample takes the colour of what covers it: the pixel's own colour,
// the environment, or the neighbour's colour of that static.
flat in int v_layer;
flat in int v_frame;
flat in uint v_mask;
flat in mat4 v_c2w;

uniform usampler2DMSArray ms_ids;
uniform usampler2DArray sids;
uniform sampler2DArray centre_a;
uniform int samples;

layout(location = 0) out vec4 o_a;
layout(location = 1) out vec4 o_rgba;
layout(location = 2) out float o_y;

void main() {
    ivec2 xy = ivec2(gl_FragCoord.xy);
    ivec3 ij = ivec3(xy, v_layer);
    uint c = texelFetch(sids, ij, 0).r;
    vec4 own = texelFetch(centre_a, ij, 0);
    vec2 uv = cv_pixel(gl_FragCoord.xy);
    Cam cam;
    cam.c2w = v_c2w;
    vec4 env = vec4(environment(view_dir(cam, uv), uv), 1.0);
    ivec2 hi = size - 1;
    ivec3 nb0 = ivec3(clamp(xy + ivec2(-1, 0), ivec2(0), hi), v_layer), nb1 = ivec3(clamp(xy + ivec2(1, 0), ivec2(0), hi), v_layer);
    ivec3 nb2 = ivec3(clamp(xy + ivec2(0, -1), ivec2(0), hi), v_layer), nb3 = ivec3(clamp(xy + ivec2(0, 1), ivec2(0), hi), v_layer);
    uvec4 nid = uvec4(texelFetch(sids, nb0, 0).r, texelFetch(sids, nb1, 0).r, texelFetch(sids, nb2, 0).r, texelFetch(sids, nb3, 0).r);
    vec4 nc0 = texelFetch(centre_a, nb0, 0), nc1 = texelFetch(centre_a, nb1, 0);
    vec4 nc2 = texelFetch(centre_a, nb2, 0), nc3 = texelFetch(centre_a, nb3, 0);
    // high range (re-shading) and display (surfaces tone-mapped, the environment as given) averages
    vec4 sum = vec4(0.0);
    vec3 shown = vec3(0.0);
    for (int s = 0; s < samples; s++) {
        uint si = texelFetch(ms_ids, ij, s).r;
        vec4 other = si == nid.w ? nc3 : si == nid.z ? nc2 : si == nid.y ? nc1 : si == nid.x ? nc0 : own;
        uint sid = si == c ? c : si;
        vec4 col = si == c ? own : (si == 0u ? env : other);
        sum += col;
        shown += sid == 0u ? col.rgb : tonemap(col.rgb);
    }
    sum /= float(samples);
    o_a = sum;
    vec3 c8 = quantize(shown / float(samples));
    o_rgba = vec4(c8, 1.0);
    o_y = luma(c8);
}
