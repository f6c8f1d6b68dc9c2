/*
 * A Tickwork margin-rule plugin in plain C, written only against tickwork_plugin.h.
 *
 * It adds a fixed 250.00 to the initial and the maintenance requirement of any portfolio that
 * holds at least one position. Build it with:
 *
 *     cc -std=c11 -shared -fPIC -I plugin-api/include \
 *        plugins/c-margin-rule/margin_rule.c -o libtickwork_example_c_margin_rule.so
 *
 * What a C plugin must do by hand that the Rust SDK does for it: fill in struct_size, check
 * the struct_size of what it is given, never return through a NULL function pointer, and
 * copy any string it is handed before the call returns.
 */

#include <string.h>

#include "tickwork_plugin.h"

/* A TwStr over a string literal (not NUL-terminated on the wire: the length excludes it). */
#define TW_LIT(s) {(const uint8_t *)(s), sizeof(s) - 1}

#define PLUGIN_ID "org.tickwork.example.c-margin-rule"
#define RULE_ID "org.tickwork.example.c-fixed-add-on"
#define REASON "fixed add-on of 250.00 from the C example plugin"

/* 250.00 as rust_decimal's 16 bytes: flags (scale 2 in bits 16-23), then lo, mid, hi of the
   mantissa 25000, all little-endian. */
static const TwDecimal FIXED_ADD_ON = {{0, 0, 2, 0, 0xa8, 0x61, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};

static int str_equals(TwStr s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || (s.ptr != NULL && memcmp(s.ptr, lit, n) == 0));
}

static TwStatus compute(const TwMarginInput *input, TwMarginResult *out) {
    if (input == NULL || out == NULL || input->struct_size < TW_V1_0_SIZE_MARGIN_INPUT ||
        out->struct_size < TW_V1_0_SIZE_MARGIN_RESULT) {
        return TW_ERR_BAD_ARG;
    }
    if (input->leg_count == 0) {
        out->outcome = TW_MARGIN_UNCHANGED;
        return TW_OK;
    }
    out->outcome = TW_MARGIN_ADD_ON;
    out->initial = FIXED_ADD_ON;
    out->maintenance = FIXED_ADD_ON;
    if (out->write_reason != NULL) {
        out->write_reason(out->reason_user, (const uint8_t *)REASON, sizeof(REASON) - 1);
    }
    return TW_OK;
}

static const TwMarginRuleV1 RULE = {
    sizeof(TwMarginRuleV1), 0, TW_LIT(RULE_ID), compute,
};

/* The bare capability id names the one rule; "<capability id>#<rule id>" names it too. */
static const void *get_capability(TwStr id) {
    if (str_equals(id, TW_CAP_MARGIN_RULE_V1) ||
        str_equals(id, TW_CAP_MARGIN_RULE_V1 "#" RULE_ID)) {
        return &RULE;
    }
    return NULL;
}

static TwStatus init(const TwHostApi *host) {
    if (host == NULL || host->struct_size < TW_V1_0_SIZE_HOST_API ||
        host->abi_major != TW_ABI_MAJOR) {
        return TW_ERR_BAD_ARG;
    }
    if (host->log != NULL) {
        TwStr msg = TW_LIT("C margin rule ready");
        host->log(host->ctx, TW_LOG_INFO, msg);
    }
    return TW_OK;
}

static void shutdown(void) {}

/* C code cannot panic, so nothing can unwind into the host: the flag the host requires. */
static const TwPluginDescriptor DESCRIPTOR = {
    sizeof(TwPluginDescriptor),
    TW_ABI_MAJOR,
    TW_ABI_MINOR,
    TW_FLAG_PANIC_UNWIND,
    0,
    TW_LIT(PLUGIN_ID),
    TW_LIT("0.1.0"),
    TW_LIT("C11, tickwork_plugin.h"),
    init,
    shutdown,
    get_capability,
};

const struct TwPluginDescriptor *tickwork_plugin_entry_v1(void) { return &DESCRIPTOR; }
