package devicemodel

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// checkValue checks value against the characteristics of its variable and
// returns its canonical form: booleans in lower case, numbers without sign
// or leading zeros, list items trimmed and spelled as ValuesList spells
// them. Number and list items are matched without regard to case, since a
// CSMS may write "True" or "energy.active.import.register"; nothing else is
// changed.
func checkValue(ch *VariableCharacteristics, value string) (string, error) {
	v := value
	switch ch.DataType {
	case TypeString:
	case TypeBoolean:
		switch {
		case strings.EqualFold(value, "true"):
			v = "true"
		case strings.EqualFold(value, "false"):
			v = "false"
		default:
			return "", fmt.Errorf("%q is not a boolean", value)
		}
	case TypeInteger:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return "", fmt.Errorf("%q is not an integer", value)
		}
		if err := inLimits(ch, float64(n)); err != nil {
			return "", err
		}
		v = strconv.FormatInt(n, 10)
	case TypeDecimal:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(value, "xXpP_") {
			return "", fmt.Errorf("%q is not a decimal number", value)
		}
		if err := inLimits(ch, f); err != nil {
			return "", err
		}
		v = strconv.FormatFloat(f, 'f', -1, 64)
	case TypeDateTime:
		if _, err := time.Parse(time.RFC3339Nano, value); err != nil {
			return "", fmt.Errorf("%q is not an RFC 3339 date-time", value)
		}
	case TypeOptionList:
		allowed := splitList(ch.ValuesList)
		if len(allowed) > 0 {
			i := indexFold(allowed, value)
			if i < 0 {
				return "", fmt.Errorf("%q is not one of %s", value, ch.ValuesList)
			}
			v = allowed[i]
		}
	case TypeMemberList, TypeSequenceList:
		allowed := splitList(ch.ValuesList)
		items := splitList(value)
		for i, it := range items {
			if len(allowed) > 0 {
				j := indexFold(allowed, it)
				if j < 0 {
					return "", fmt.Errorf("%q is not one of %s", it, ch.ValuesList)
				}
				items[i] = allowed[j]
			}
			if slices.Contains(items[:i], items[i]) {
				return "", fmt.Errorf("%s listed twice", items[i])
			}
		}
		v = strings.Join(items, ",")
	default:
		return "", fmt.Errorf("unknown data type %q", ch.DataType)
	}
	switch ch.DataType {
	case TypeString, TypeOptionList, TypeMemberList, TypeSequenceList:
		if ch.MaxLimit != nil && float64(utf8.RuneCountInString(v)) > *ch.MaxLimit {
			return "", fmt.Errorf("%d characters, at most %v allowed", utf8.RuneCountInString(v), *ch.MaxLimit)
		}
	}
	return v, nil
}

// inLimits checks a number against MinLimit and MaxLimit.
func inLimits(ch *VariableCharacteristics, f float64) error {
	if ch.MinLimit != nil && f < *ch.MinLimit {
		return fmt.Errorf("%v is below the minimum %v", f, *ch.MinLimit)
	}
	if ch.MaxLimit != nil && f > *ch.MaxLimit {
		return fmt.Errorf("%v is above the maximum %v", f, *ch.MaxLimit)
	}
	return nil
}

// numeric reports whether values of ch are numbers, the types MinSet and
// MaxSet apply to.
func numeric(ch *VariableCharacteristics) bool {
	return ch.DataType == TypeInteger || ch.DataType == TypeDecimal
}

// splitList splits a comma-separated list, trimming spaces around items. An
// empty or blank list has no items.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	items := strings.Split(s, ",")
	for i, it := range items {
		items[i] = strings.TrimSpace(it)
	}
	return items
}

// indexFold returns the index of the first item of list equal to s without
// regard to case, -1 when there is none.
func indexFold(list []string, s string) int {
	return slices.IndexFunc(list, func(it string) bool { return strings.EqualFold(it, s) })
}

// truncate returns the first n characters of s.
func truncate(s string, n int) string {
	if n < 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// limit returns a pointer to f, for the MinLimit and MaxLimit of a table row.
func limit(f float64) *float64 { return &f }
