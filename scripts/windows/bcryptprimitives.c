/* bcryptprimitives.dll for Wine prefixes that lack it (Debian's Wine 8.0): Rust's std imports
 * ProcessPrng from it since Rust 1.78. Forwards to BCryptGenRandom with the system RNG; real
 * Windows ships the DLL, so this is only ever placed in the test script's Wine prefix. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
