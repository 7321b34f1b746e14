// For drivers without ARB_shader_stencil_export (NVIDIA's): one bit of the id pass's object id into
// the stencil. One pass per bit; the stencil write mask selects the bit, the reference value sets it,
// and pixels whose id has the bit clear keep the stencil as it was (0 before the id pass).
flat in int v_layer;

uniform usampler2DArray ids;
uniform int bit;

void main() {
    uint id = texelFetch(ids, ivec3(ivec2(gl_FragCoord.xy), v_layer), 0).r;
    if (((id >> uint(bit)) & 1u) == 0u) discard;
}
