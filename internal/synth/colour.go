package synth

import "math"

// rgbToHSV returns hue in degrees, saturation and value in 0..1.
func rgbToHSV(c rgb) (h, s, v float64) {
	r, g, b := float64(c.r)/255, float64(c.g)/255, float64(c.b)/255
	mx := math.Max(r, math.Max(g, b))
	mn := math.Min(r, math.Min(g, b))
	v = mx
	d := mx - mn
	if mx > 0 {
		s = d / mx
	}
	if d == 0 {
		return 0, s, v
	}
	switch mx {
	case r:
		h = math.Mod((g-b)/d, 6)
	case g:
		h = (b-r)/d + 2
	default:
		h = (r-g)/d + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	return h, s, v
}

func hsvToRGB(h, s, v float64) rgb {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	s = math.Max(0, math.Min(1, s))
	v = math.Max(0, math.Min(1, v))
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return rgb{float32((r + m) * 255), float32((g + m) * 255), float32((b + m) * 255)}
}

// jitter shifts hue by dh degrees and scales saturation and value by 1+ds, 1+dv.
func jitter(c rgb, dh, ds, dv float64) rgb {
	h, s, v := rgbToHSV(c)
	return hsvToRGB(h+dh, s*(1+ds), v*(1+dv))
}
