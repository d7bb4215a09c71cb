package store

import "testing"

func TestTakeUntilEmpty(t *testing.T) {
	s := New(map[string]int{"mug": 2})
	// Go 1.22: range over an integer.
	for range 2 {
		if err := s.Take("mug"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Take("mug"); err != ErrOutOfStock {
		t.Fatalf("got %v, want ErrOutOfStock", err)
	}
}
