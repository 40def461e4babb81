package dockerstate

import (
	"github.com/distribution/reference"
)

// RepoDigest is the registry digest ("sha256:…") by which img is known in
// the repository that ref names, or "" when it has none there (an image
// built or loaded locally, never pushed or pulled). A ref that names a
// digest itself has that digest.
func (img *Image) RepoDigest(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	if c, ok := named.(reference.Canonical); ok {
		return c.Digest().String()
	}
	for _, rd := range img.RepoDigests {
		d, err := reference.ParseNormalizedNamed(rd)
		if err != nil {
			continue
		}
		if c, ok := d.(reference.Canonical); ok && d.Name() == named.Name() {
			return c.Digest().String()
		}
	}
	return ""
}

// PinnedReference is ref's repository at digest ("registry/repo@sha256:…",
// written as Docker shows names): the image ref named when its digest was
// resolved, whatever its tag names now. It is ref itself when ref cannot be
// parsed or digest is empty.
func PinnedReference(ref, digest string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil || digest == "" {
		return ref
	}
	pinned, err := reference.ParseNormalizedNamed(reference.TrimNamed(named).String() + "@" + digest)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(pinned)
}
