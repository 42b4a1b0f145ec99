// Package quantity parses Kubernetes resource quantities ("500m", "2Gi",
// "1.5", "1e3") so configuration can be checked before it reaches the API
// server, which would otherwise reject it half-way through a deployment.
package quantity

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Parse returns the exact value of a non-negative Kubernetes quantity.
// It accepts what the API server accepts for resource requests: a decimal
// number followed by a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix
// (n u m k M G T P E) or an exponent (e3, E-2).
func Parse(s string) (*big.Rat, error) {
	if s == "" {
		return nil, errors.New("empty quantity")
	}
	if len(s) > 64 {
		return nil, fmt.Errorf("quantity %q is too long", s)
	}
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || (end == 0 && s[end] == '+')) {
		end++
	}
	num, suffix := s[:end], s[end:]
	num = strings.TrimPrefix(num, "+")
	if num == "" || num == "." || strings.Count(num, ".") > 1 {
		return nil, fmt.Errorf("quantity %q does not start with a number", s)
	}
	v, ok := new(big.Rat).SetString(num)
	if !ok {
		return nil, fmt.Errorf("quantity %q does not start with a number", s)
	}
	mult, err := multiplier(suffix)
	if err != nil {
		return nil, fmt.Errorf("quantity %q: %w", s, err)
	}
	return v.Mul(v, mult), nil
}

var binary = map[string]uint{"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

var decimal = map[string]int{"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

func multiplier(suffix string) (*big.Rat, error) {
	if shift, ok := binary[suffix]; ok {
		return new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), shift)), nil
	}
	if exp, ok := decimal[suffix]; ok {
		return pow10(exp), nil
	}
	if suffix[0] == 'e' || suffix[0] == 'E' {
		exp, err := strconv.Atoi(suffix[1:])
		if err != nil || exp < -30 || exp > 30 {
			return nil, fmt.Errorf("bad exponent %q", suffix)
		}
		return pow10(exp), nil
	}
	return nil, fmt.Errorf("unknown suffix %q (use Ki, Mi, Gi, Ti, m, k, M, G, T or none)", suffix)
}

func pow10(exp int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
	if exp < 0 {
		return new(big.Rat).SetFrac(big.NewInt(1), p)
	}
	return new(big.Rat).SetInt(p)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Compare parses two quantities and returns -1, 0 or +1 as a <, =, > b.
func Compare(a, b string) (int, error) {
	x, err := Parse(a)
	if err != nil {
		return 0, err
	}
	y, err := Parse(b)
	if err != nil {
		return 0, err
	}
	return x.Cmp(y), nil
}
