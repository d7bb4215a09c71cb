// Command inventory serves the stock levels of a small warehouse over HTTP.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"

	"example.com/inventory/internal/store"
)

func main() {
	s := store.New(map[string]int{"mug": 40, "tote": 12})

	// Method and wildcard patterns need the Go 1.22 ServeMux.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{sku}", func(w http.ResponseWriter, r *http.Request) {
		n, ok := s.Count(r.PathValue("sku"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int{"count": n})
	})
	mux.HandleFunc("POST /items/{sku}/take", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Take(r.PathValue("sku")); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	addr := ":8080"
	if port := os.Getenv("PORT"); port != "" {
		addr = ":" + port
	}
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}
