/*
 * aes.c -- AES-128 (FIPS-197): key expansion, the portable block encryption, and the
 * CPU test for AES-NI. Written from the standard's description (sections 5.1 and 5.2);
 * the S-box below is the standard's table (5.1.1: the inverse in GF(2^8) followed by its
 * affine map), generated from that definition.
 */
#include "core/arch.h"
#include "core/aes.h"

#include <assert.h>
#include <string.h>

static const uint8_t sbox[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

/* Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 4.2.1). */
static inline uint8_t xtime(uint8_t b)
{
    return (uint8_t)((b << 1) ^ ((b >> 7) * 0x1b));
}

void tw_aes128_init(tw_aes128 *a, const uint8_t key[16], bool use_ni)
{
    /* FIPS-197 5.2: w[i] = w[i-4] ^ temp, temp = SubWord(RotWord(w[i-1])) ^ Rcon[i/4] at
       every fourth word; here bytewise, word i at rk[4i..4i+3]. */
    uint8_t *w = a->rk;
    memcpy(w, key, 16);
    uint8_t rcon = 1;
    for (unsigned i = 4; i < 44; i++) {
        uint8_t t[4];
        memcpy(t, w + 4 * (i - 1), 4);
        if (i % 4 == 0) {
            uint8_t t0 = t[0];
            t[0] = (uint8_t)(sbox[t[1]] ^ rcon);
            t[1] = sbox[t[2]];
            t[2] = sbox[t[3]];
            t[3] = sbox[t0];
            rcon = xtime(rcon);
        }
        for (unsigned j = 0; j < 4; j++) {
            w[4 * i + j] = (uint8_t)(w[4 * (i - 4) + j] ^ t[j]);
        }
    }
    /* The instructions' memory operands must be 16-aligned (legacy SSE encoding, which
       machines with AES-NI and no AVX need). A stack's memory comes from the
       application's allocator (tw_config.allocator, which tcpwave.h asks for malloc's
       alignment, 16 here), and stack.h aligns the keys in it; should an allocator give
       less, the portable form, which gives the same output. */
    a->ni = use_ni && ((uintptr_t)a->rk & 15u) == 0 && tw_aes_have_ni();
}

bool tw_aes_have_ni(void)
{
#if TW_ASM_X86
    /* (SSE4.1 too: tw_aes128_prf64_ni's pinsrq. Every processor with AES-NI has it; a
       virtual one that offered AES-NI alone takes the portable form, the same answers) */
    return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
#else
    return false;
#endif
}

void tw_aes128_encrypt_soft(const tw_aes128 *a, const uint8_t in[16], uint8_t out[16])
{
    /* The state as 16 bytes in input order: byte r + 4c is row r of column c (FIPS-197
       3.4). */
    uint8_t s[16];
    for (unsigned i = 0; i < 16; i++) {
        s[i] = in[i] ^ a->rk[i];
    }
    for (unsigned round = 1; round <= 10; round++) {
        /* SubBytes and ShiftRows together: row r moves left by r columns (5.1.1, 5.1.2). */
        uint8_t t[16];
        for (unsigned c = 0; c < 4; c++) {
            for (unsigned r = 0; r < 4; r++) {
                t[r + 4 * c] = sbox[s[r + 4 * ((c + r) & 3)]];
            }
        }
        if (round < 10) {
            /* MixColumns (5.1.3): each column times {03}x^3 + {01}x^2 + {01}x + {02}. */
            for (unsigned c = 0; c < 4; c++) {
                uint8_t *col = t + 4 * c;
                uint8_t a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
                uint8_t all = (uint8_t)(a0 ^ a1 ^ a2 ^ a3);
                col[0] = (uint8_t)(a0 ^ all ^ xtime((uint8_t)(a0 ^ a1)));
                col[1] = (uint8_t)(a1 ^ all ^ xtime((uint8_t)(a1 ^ a2)));
                col[2] = (uint8_t)(a2 ^ all ^ xtime((uint8_t)(a2 ^ a3)));
                col[3] = (uint8_t)(a3 ^ all ^ xtime((uint8_t)(a3 ^ a0)));
            }
        }
        /* AddRoundKey (5.1.4) */
        for (unsigned i = 0; i < 16; i++) {
            s[i] = t[i] ^ a->rk[16 * round + i];
        }
    }
    memcpy(out, s, 16);
}

void tw_aes128_encrypt_ni(const tw_aes128 *a, const uint8_t in[16], uint8_t out[16])
{
    assert(a->ni);
#if TW_ASM_X86
    /* (the whole block, for the tests; tw_aes128_prf64 keeps only its first half) */
    typedef long long v2di __attribute__((vector_size(16)));
    v2di x;
    __asm__("movdqu (%[in]), %[x]\n\t" TW_AES128_NI_ROUNDS "movdqu %[x], (%[out])"
            : [x] "=&x"(x), "=m"(*(uint8_t(*)[16])out)
            : [in] "r"(in), [out] "r"(out), [rk] "r"(a->rk), "m"(*(const uint8_t(*)[16])in),
              "m"(*(const uint8_t(*)[176])a->rk));
#else
    tw_aes128_encrypt_soft(a, in, out);
#endif
}

uint64_t tw_aes128_prf64_soft(const tw_aes128 *a, uint64_t lo, uint64_t hi)
{
    uint8_t in[16], out[16];
    for (unsigned i = 0; i < 8; i++) {
        in[i] = (uint8_t)(lo >> (8 * i));
        in[8 + i] = (uint8_t)(hi >> (8 * i));
    }
    tw_aes128_encrypt_soft(a, in, out);
    uint64_t r = 0;
    for (unsigned i = 0; i < 8; i++) {
        r |= (uint64_t)out[i] << (8 * i);
    }
    return r;
}
