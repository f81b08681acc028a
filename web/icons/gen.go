//go:build ignore

// gen draws Hark's app icons (PNG) for the web app manifest:
//
//	cd web/icons && go run gen.go
//
// The picture is a green talk button with a white microphone on the page's
// dark background, kept inside the middle 80 % so that launchers that cut
// the icon to a circle or a squircle ("maskable") keep all of it.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

func main() {
	for _, size := range []int{192, 512, 180} {
		name := "icon-" + itoa(size) + ".png"
		if size == 180 {
			name = "apple-touch-icon.png"
		}
		if err := write(name, draw(size)); err != nil {
			log.Fatal(err)
		}
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func write(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var (
	bg    = color.NRGBA{0x14, 0x20, 0x2b, 0xff}
	green = color.NRGBA{0x2f, 0x9e, 0x6e, 0xff}
	white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// shade returns the colour of the point (x, y) in a 1×1 square.
func shade(x, y float64) color.NRGBA {
	dx, dy := x-0.5, y-0.5
	r := math.Hypot(dx, dy)
	if r > 0.34 {
		return bg
	}
	// The microphone: a capsule, its cradle (a half ring) and a stand.
	if capsule(x, y, 0.5, 0.36, 0.50, 0.075) {
		return white
	}
	cy := 0.50
	if ring := math.Hypot(x-0.5, y-cy); y > cy && ring > 0.115 && ring < 0.145 {
		return white
	}
	if x > 0.485 && x < 0.515 && y > cy+0.13 && y < 0.70 {
		return white
	}
	if x > 0.42 && x < 0.58 && y > 0.685 && y < 0.715 {
		return white
	}
	return green
}

// capsule reports whether (x, y) is inside the vertical capsule from y0 to
// y1 at x0 with radius rad.
func capsule(x, y, x0, y0, y1, rad float64) bool {
	cy := math.Max(y0, math.Min(y1, y))
	return math.Hypot(x-x0, y-cy) <= rad
}

func draw(size int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4 // samples per axis for smooth edges
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b int
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					c := shade((float64(px)+(float64(sx)+0.5)/ss)/float64(size), (float64(py)+(float64(sy)+0.5)/ss)/float64(size))
					r += int(c.R)
					g += int(c.G)
					b += int(c.B)
				}
			}
			n := ss * ss
			img.SetNRGBA(px, py, color.NRGBA{uint8(r / n), uint8(g / n), uint8(b / n), 0xff})
		}
	}
	return img
}
