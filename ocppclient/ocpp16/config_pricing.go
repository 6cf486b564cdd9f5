package ocpp16

import (
	"fmt"
	"slices"
	"strings"
)

// Configuration keys of California Pricing (see docs/pricing.md).
const (
	// KeyCustomDisplayCostAndPrice says the charge point shows prices and
	// costs: read-only, always true.
	KeyCustomDisplayCostAndPrice = "CustomDisplayCostAndPrice"
	// KeyDefaultPrice is the DefaultPrice JSON object ("" for none).
	KeyDefaultPrice = "DefaultPrice"
	// KeyCustomMultiLanguageMessages says texts in other languages
	// (priceTextExtra, DefaultPriceText,<language>) are used.
	KeyCustomMultiLanguageMessages = "CustomMultiLanguageMessages"
	// KeySupportedLanguages lists the languages the display can show.
	KeySupportedLanguages = "SupportedLanguages"
	// KeyLanguage is the display's language, one of SupportedLanguages.
	KeyLanguage = "Language"
	// KeyDefaultPriceTextPrefix, followed by a language code, names the
	// key of the default texts in that language: DefaultPriceText,de.
	KeyDefaultPriceTextPrefix = "DefaultPriceText,"
	// KeyTimeOffset is the display's offset from UTC (+hh:mm).
	KeyTimeOffset = "TimeOffset"
	// KeyNextTimeOffsetTransitionDateTime is when the offset changes next
	// (a DST change); "" for none.
	KeyNextTimeOffsetTransitionDateTime = "NextTimeOffsetTransitionDateTime"
	// KeyTimeOffsetNextTransition is the offset from then on; "" for
	// none.
	KeyTimeOffsetNextTransition = "TimeOffsetNextTransition"
	// KeyCustomIdleFeeAfterStop makes the charge point send
	// ConnectorUnplugged when the cable leaves after the transaction.
	KeyCustomIdleFeeAfterStop = "CustomIdleFeeAfterStop"
)

// PricingLanguages are the languages this firmware has a
// DefaultPriceText,<language> key for; SupportedLanguages may list only
// these.
const PricingLanguages = "en,de,fr,nl"

// pricingKeyDefs are the California Pricing keys, in GetConfiguration
// order after the others.
func pricingKeyDefs() []KeyDef {
	defs := []KeyDef{
		{Name: KeyCustomDisplayCostAndPrice, Access: ReadOnly, Type: TypeBool, Default: "true", check: checkDisplayCostAndPrice},
		{Name: KeyDefaultPrice, Access: ReadWrite, Type: TypeString, Default: "", check: checkDefaultPrice},
		{Name: KeyCustomMultiLanguageMessages, Access: ReadWrite, Type: TypeBool, Default: "true"},
		{Name: KeySupportedLanguages, Access: ReadOnly, Type: TypeCSL, Default: PricingLanguages, check: checkLanguages},
		{Name: KeyLanguage, Access: ReadWrite, Type: TypeString, Default: "en", check: checkLanguage},
	}
	for _, lang := range splitCSL(PricingLanguages) {
		defs = append(defs, KeyDef{Name: KeyDefaultPriceTextPrefix + lang, Access: ReadWrite, Type: TypeString, Default: "",
			check: checkDefaultPriceText})
	}
	return append(defs,
		KeyDef{Name: KeyTimeOffset, Access: ReadWrite, Type: TypeString, Default: "+00:00", check: checkTimeOffset},
		KeyDef{Name: KeyNextTimeOffsetTransitionDateTime, Access: ReadWrite, Type: TypeString, Default: "", check: checkTransitionTime},
		KeyDef{Name: KeyTimeOffsetNextTransition, Access: ReadWrite, Type: TypeString, Default: "", check: checkOptionalTimeOffset},
		KeyDef{Name: KeyCustomIdleFeeAfterStop, Access: ReadWrite, Type: TypeBool, Default: "false"},
	)
}

// checkDisplayCostAndPrice keeps the key true: the firmware shows prices,
// and saying otherwise would mislead the CSMS.
func checkDisplayCostAndPrice(v string, _ func(string) string, _ bool) (string, error) {
	if v != "true" {
		return "", fmt.Errorf("%s is always true", KeyCustomDisplayCostAndPrice)
	}
	return v, nil
}

func checkDefaultPrice(v string, _ func(string) string, _ bool) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	if _, err := parseDefaultPrice(v); err != nil {
		return "", err
	}
	return v, nil
}

func checkDefaultPriceText(v string, _ func(string) string, _ bool) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	var t DefaultPriceText
	if err := decodeCostMsg(v, &t); err != nil {
		return "", err
	}
	return v, nil
}

func checkLanguages(v string, _ func(string) string, _ bool) (string, error) {
	items := splitCSL(v)
	if len(items) == 0 {
		return "", fmt.Errorf("at least one language is needed")
	}
	for _, it := range items {
		if !slices.Contains(splitCSL(PricingLanguages), it) {
			return "", fmt.Errorf("language %q is not one of %s", it, PricingLanguages)
		}
	}
	return v, nil
}

func checkLanguage(v string, cur func(string) string, _ bool) (string, error) {
	if !slices.Contains(splitCSL(cur(KeySupportedLanguages)), v) {
		return "", fmt.Errorf("language %q is not among the SupportedLanguages %s", v, cur(KeySupportedLanguages))
	}
	return v, nil
}

func checkTimeOffset(v string, _ func(string) string, _ bool) (string, error) {
	if _, err := parseTimeOffset(v); err != nil {
		return "", err
	}
	return v, nil
}

func checkOptionalTimeOffset(v string, cur func(string) string, loading bool) (string, error) {
	if v == "" {
		return v, nil
	}
	return checkTimeOffset(v, cur, loading)
}

func checkTransitionTime(v string, _ func(string) string, _ bool) (string, error) {
	if v == "" {
		return v, nil
	}
	if _, err := ParseDateTime(v); err != nil {
		return "", err
	}
	return v, nil
}
