package quantity

import (
	"math/big"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want string // exact rational
	}{
		{"1", "1"},
		{"500m", "1/2"},
		{"0.5", "1/2"},
		{"2Gi", "2147483648"},
		{"512Mi", "536870912"},
		{"1k", "1000"},
		{"1.5G", "1500000000"},
		{"1e3", "1000"},
		{"1E-3", "1/1000"},
		{"+3", "3"},
		{"100n", "1/10000000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			want, _ := new(big.Rat).SetString(tt.want)
			if got.Cmp(want) != 0 {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got.RatString(), tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "Gi", "2 cores", "2GB", "-1", "1..2", ".", "1e", "1e+", "1Kib", "1x", "1e99"} {
		t.Run(in, func(t *testing.T) {
			if v, err := Parse(in); err == nil {
				t.Errorf("Parse(%q) = %s, want an error", in, v.RatString())
			}
		})
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"500m", "1", -1},
		{"1Gi", "1024Mi", 0},
		{"2", "1500m", 1},
		{"1G", "1Gi", -1},
	}
	for _, tt := range tests {
		got, err := Compare(tt.a, tt.b)
		if err != nil || got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", tt.a, tt.b, got, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "500m", "2Gi", "1e3", "1.5", "", "x", "1E-30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		if v.Sign() < 0 {
			t.Fatalf("Parse(%q) = %s is negative", s, v.RatString())
		}
		// A parsed quantity compares equal to itself.
		if c, err := Compare(s, s); err != nil || c != 0 {
			t.Fatalf("Compare(%q, itself) = %d, %v", s, c, err)
		}
	})
}
