// Package store keeps stock counts in memory.
package store

import (
	"errors"
	"sync"
)

var ErrOutOfStock = errors.New("out of stock")

type Store struct {
	mu    sync.Mutex
	items map[string]int
}

func New(initial map[string]int) *Store {
	items := make(map[string]int, len(initial))
	for sku, n := range initial {
		items[sku] = n
	}
	return &Store{items: items}
}

func (s *Store) Count(sku string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items[sku]
	return n, ok
}

func (s *Store) Take(sku string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items[sku] == 0 {
		return ErrOutOfStock
	}
	s.items[sku]--
	return nil
}
