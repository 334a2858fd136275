package publish_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/runner/publish"
	"github.com/tailgate-ci/tailgate/runner/publish/publishtest"
)

// BenchmarkRenderComment renders the comment of two suites, as is and with a 200 kB gate report
// that has to be cut to GitHub's limit.
func BenchmarkRenderComment(b *testing.B) {
	big := sampleInput()
	big.Suites[0].Markdown = strings.Repeat("| interval | 12.345 ms | 13.456 ms | +9.0% |\n", 4500)
	for _, bc := range []struct {
		name string
		in   publish.Input
	}{{"fits", sampleInput()}, {"truncated", big}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if body := publish.RenderComment(bc.in, publish.RenderOptions{SHA: target.SHA}); len(body) > publish.MaxCommentBytes {
					b.Fatal("over the limit")
				}
			}
		})
	}
}

// BenchmarkUpsertComment edits the marker comment on page 3 of 3 through a real go-github
// client and the fake GitHub over loopback: four requests per upsert.
func BenchmarkUpsertComment(b *testing.B) {
	srv := publishtest.New(b, token)
	marker := publish.Marker("pr")
	for i := 0; i < 230; i++ {
		srv.Seed(target.PR, fmt.Sprintf("review comment %d", i))
	}
	srv.Seed(target.PR, marker+"\nold")
	c, err := publish.NewClient(publish.ClientOptions{APIURL: srv.APIURL(), Token: token})
	if err != nil {
		b.Fatal(err)
	}
	body := publish.RenderComment(sampleInput(), publish.RenderOptions{SHA: target.SHA})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := c.UpsertComment(context.Background(), target, marker, fmt.Sprintf("%s\n%d", body, i)); err != nil {
			b.Fatal(err)
		}
	}
}
