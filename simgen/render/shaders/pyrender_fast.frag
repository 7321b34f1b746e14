#version 330 core
// simgen "fast" shading: Lambert diffuse + Blinn-Phong specular from directional lights, plus
// ambient. A drop-in for pyrender's mesh.frag (same uniforms and defines), about 2x cheaper per
// pixel on a CPU rasteriser (Mesa llvmpipe) than pyrender's PBR shader.
struct DirectionalLight {
    vec3 color;
    float intensity;
    vec3 direction;
#ifdef DIRECTIONAL_LIGHT_SHADOWS
    sampler2D shadow_map;
    mat4 light_matrix;
#endif
};

struct Material {
    vec3 emissive_factor;
#ifdef USE_METALLIC_MATERIAL
    vec4 base_color_factor;
    float metallic_factor;
    float roughness_factor;
#endif
#ifdef USE_GLOSSY_MATERIAL
    vec4 diffuse_factor;
    vec3 specular_factor;
    float glossiness_factor;
#endif
#ifdef HAS_BASE_COLOR_TEX
    sampler2D base_color_texture;
#endif
#ifdef HAS_DIFFUSE_TEX
    sampler2D diffuse_texture;
#endif
};

uniform Material material;
uniform DirectionalLight directional_lights[MAX_DIRECTIONAL_LIGHTS];
uniform int n_directional_lights;
uniform vec3 cam_pos;
uniform vec3 ambient_light;

in vec3 frag_position;
#ifdef NORMAL_LOC
in vec3 frag_normal;
#endif
#ifdef TEXCOORD_0_LOC
in vec2 uv_0;
#endif
#ifdef COLOR_0_LOC
in vec4 color_multiplier;
#endif

out vec4 frag_color;

void main()
{
    vec4 base = vec4(1.0);
    float rough = 0.7;
#ifdef USE_METALLIC_MATERIAL
    base = material.base_color_factor;
    rough = material.roughness_factor;
#endif
#ifdef USE_GLOSSY_MATERIAL
    base = material.diffuse_factor;
    rough = 1.0 - material.glossiness_factor;
#endif
#ifdef HAS_BASE_COLOR_TEX
    base = base * texture(material.base_color_texture, uv_0);
#endif
#ifdef HAS_DIFFUSE_TEX
    base = base * texture(material.diffuse_texture, uv_0);
#endif
#ifdef COLOR_0_LOC
    base = base * color_multiplier;
#endif
#ifdef NORMAL_LOC
    vec3 n = normalize(frag_normal);
#else
    vec3 n = normalize(cross(dFdx(frag_position), dFdy(frag_position)));
#endif
    vec3 v = normalize(cam_pos - frag_position);
    if (dot(n, v) < 0.0) {
        n = -n;  // two-sided surfaces (the floor seen from below, open meshes)
    }
    float shininess = mix(96.0, 6.0, clamp(rough, 0.0, 1.0));
    float ks = 0.35 * (1.0 - clamp(rough, 0.0, 1.0));
    vec3 c = ambient_light * base.rgb;
    for (int i = 0; i < n_directional_lights; i++) {
        vec3 l = normalize(-directional_lights[i].direction);
        float nl = max(dot(n, l), 0.0);
        vec3 h = normalize(l + v);
        float spec = nl > 0.0 ? pow(max(dot(n, h), 0.0), shininess) : 0.0;
        c += directional_lights[i].color * directional_lights[i].intensity * 0.3183 * (base.rgb * nl + ks * spec);
    }
    frag_color = vec4(clamp(c + material.emissive_factor, 0.0, 1.0), base.a);
}
