package dockerstate

// Following reports whether a stats stream of the container is open. Tests
// ask this rather than count Streams: the Docker daemon they use is shared,
// and other task containers on it are followed too.
func (s *Stats) Following(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.streams[id]
	return ok
}
