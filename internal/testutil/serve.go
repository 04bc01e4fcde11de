package testutil

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// ServeDir serves the files below root over HTTP on 127.0.0.1 until the
// test ends, answering 401 to every request allowed (when not nil)
// refuses.
func ServeDir(t testing.TB, root string, allowed func(*http.Request) bool) *httptest.Server {
	files := http.FileServer(http.Dir(root))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed != nil && !allowed(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// BearerToken allows the requests that carry "Authorization: Bearer token".
func BearerToken(token string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+token }
}

// BasicAuth allows the requests that give user and password.
func BasicAuth(user, password string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		return ok && u == user && p == password
	}
}
