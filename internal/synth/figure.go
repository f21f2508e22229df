package synth

import "math"

// The figure is drawn in figure units: the face has radius 1 and its centre
// is the origin, y points down, the shoulders are at y=1.5 and the picture's
// bottom edge is about y=3.5.

var (
	skin      = rgb{252, 228, 214}
	skinShade = rgb{238, 196, 184}
	lineDark  = rgb{92, 58, 58}
	white     = rgb{250, 250, 252}
)

func mirrorPoly(p poly) poly {
	q := make(poly, len(p))
	for i, v := range p {
		q[i] = pt{-v.x, v.y}
	}
	return q
}

func shiftPoly(p poly, dx, dy float64) poly {
	q := make(poly, len(p))
	for i, v := range p {
		q[i] = pt{v.x + dx, v.y + dy}
	}
	return q
}

func starPoly(cx, cy, outer, inner, rot float64) poly {
	p := make(poly, 10)
	for i := range p {
		r := outer
		if i%2 == 1 {
			r = inner
		}
		a := rot - math.Pi/2 + float64(i)*math.Pi/5
		p[i] = pt{cx + r*math.Cos(a), cy + r*math.Sin(a)}
	}
	return p
}

// outlined draws s in line colour grown by w (around (ox, oy)), then s in fill.
func outlined(cv *canvas, s shape, m affine, fill, line rgb, w, ox, oy float64) {
	x0, y0, x1, y1 := s.bbox()
	size := math.Max(x1-x0, y1-y0)
	if size > 0 {
		k := 1 + 2*w/size
		grow := translate(ox, oy).then(scaleXY(k, k)).then(translate(-ox, -oy))
		cv.fill(s, m.then(grow), line, 1)
	}
	cv.fill(s, m, fill, 1)
}

func outlinedEllipse(cv *canvas, e ellipse, m affine, fill, line rgb, w float64) {
	o := e
	o.rx += w
	o.ry += w
	cv.fill(o, m, line, 1)
	cv.fill(e, m, fill, 1)
}

func drawFigure(cv *canvas, s Scene) {
	body, head := s.transforms()
	c := s.Character
	hair := s.hair
	hairDark := hair.scale(0.55)
	hairBack := hair.scale(0.8)

	drawBackHair(cv, head, c.HairStyle, hairBack, hairDark)
	drawBody(cv, body, s)
	if c.Headphones {
		drawHeadphones(cv, body, toRGB(c.HeadphonesColour))
	}
	drawFrontLocks(cv, head, c.HairStyle, hair, hairDark)

	// Ears and face.
	for _, sx := range []float64{-1, 1} {
		outlinedEllipse(cv, ellipse{cx: sx * 0.84, cy: 0.2, rx: 0.12, ry: 0.2}, head, skin, lineDark, 0.03)
	}
	face := union{
		ellipse{cx: 0, cy: 0, rx: 0.86, ry: 0.84},
		poly{{-0.84, 0.1}, {0.84, 0.1}, {0.56, 0.66}, {0, 0.98}, {-0.56, 0.66}},
	}
	outlined(cv, face, head, skin, lineDark, 0.03, 0, 0.1)
	drawFace(cv, head, s)
	drawFrontHair(cv, head, c, hair, hairDark)
	drawAccessories(cv, head, c)
}

func drawBackHair(cv *canvas, m affine, style HairStyle, col, dark rgb) {
	top := ellipse{cx: 0, cy: -0.04, rx: 1.07, ry: 1.02}
	hem := func(y, x0, x1 float64, n int) []pt { // a zigzag bottom edge from x1 to x0
		var p []pt
		for i := 0; i <= n; i++ {
			t := float64(i) / float64(n)
			yy := y
			if i%2 == 1 {
				yy -= 0.14
			}
			p = append(p, pt{x1 + (x0-x1)*t, yy})
		}
		return p
	}
	var s shape
	switch style {
	case HairShort:
		s = union{top, append(poly{{-1.07, 0}, {1.07, 0}}, hem(0.8, -1.0, 1.0, 6)...)}
	case HairMedium:
		s = union{top, append(poly{{-1.07, 0}, {1.07, 0}}, hem(1.95, -1.22, 1.22, 8)...)}
	case HairLong:
		s = union{top, append(poly{{-1.07, 0}, {1.07, 0}}, hem(3.4, -1.4, 1.4, 10)...)}
	case HairTwinTails:
		s = top
		for _, sx := range []float64{-1, 1} {
			tail := union{
				ellipse{cx: sx * 1.3, cy: 0.9, rx: 0.34, ry: 1.15, rot: -sx * 0.2},
				ellipse{cx: sx * 1.42, cy: 1.9, rx: 0.22, ry: 0.55, rot: sx * 0.1},
			}
			cv.fill(tail, m.then(translate(sx*0.03, 0)).then(scaleXY(1.04, 1.02)), dark, 1)
			cv.fill(tail, m, col, 1)
			cv.fill(circle(sx*1.06, -0.25, 0.11), m, rgb{230, 60, 60}, 1)
		}
	}
	outlined(cv, s, m, col, dark, 0.03, 0, 0)
}

func drawBody(cv *canvas, m affine, s Scene) {
	clothes := s.clothes
	line := clothes.scale(0.45)
	neck := poly{{-0.24, 0.55}, {0.24, 0.55}, {0.27, 1.45}, {-0.27, 1.45}}
	cv.fill(neck, m, skin, 1)
	cv.fill(and{ellipse{cx: 0, cy: 0.85, rx: 0.3, ry: 0.2}, neck}, m, skinShade, 1)
	shoulders := poly{{-0.27, 1.3}, {0.27, 1.3}, {1.0, 1.5}, {1.5, 1.85}, {1.75, 2.6}, {1.9, 7},
		{-1.9, 7}, {-1.75, 2.6}, {-1.5, 1.85}, {-1.0, 1.5}}
	outlined(cv, shoulders, m, clothes, line, 0.03, 0, 2.5)
	// Arm creases.
	for _, sx := range []float64{-1, 1} {
		cv.stroke(quad(pt{sx * 1.25, 2.2}, pt{sx * 1.3, 2.8}, pt{sx * 1.28, 3.6}, 6), 0.04, m, line)
	}
	cv.fill(poly{{-0.27, 1.28}, {0.27, 1.28}, {0, 1.85}}, m, skin, 1)
	if s.collar {
		left := poly{{-0.3, 1.26}, {0, 1.85}, {-0.08, 1.98}, {-0.7, 1.55}}
		for _, p := range []poly{left, mirrorPoly(left)} {
			outlined(cv, p, m, white, line, 0.02, 0, 1.6)
		}
	}
	tie := poly{{-0.1, 1.88}, {0.1, 1.88}, {0.14, 2.55}, {0, 2.72}, {-0.14, 2.55}}
	outlined(cv, tie, m, s.tie, s.tie.scale(0.5), 0.02, 0, 2.3)
	outlinedEllipse(cv, ellipse{cx: 0, cy: 1.86, rx: 0.1, ry: 0.08}, m, s.tie, s.tie.scale(0.5), 0.02)
}

func drawHeadphones(cv *canvas, m affine, col rgb) {
	dark := col.scale(0.4)
	cv.stroke(quad(pt{-0.62, 1.2}, pt{0, 1.8}, pt{0.62, 1.2}, 12), 0.16, m, dark)
	cv.stroke(quad(pt{-0.62, 1.2}, pt{0, 1.8}, pt{0.62, 1.2}, 12), 0.09, m, col)
	for _, sx := range []float64{-1, 1} {
		cup := ellipse{cx: sx * 0.62, cy: 1.22, rx: 0.22, ry: 0.3, rot: sx * 0.35}
		outlinedEllipse(cv, cup, m, col, dark, 0.035)
		cv.fill(ellipse{cx: sx * 0.64, cy: 1.22, rx: 0.12, ry: 0.18, rot: sx * 0.35}, m, col.mix(white, 0.45), 1)
	}
}

// drawFrontLocks draws the strands that fall in front of the shoulders.
func drawFrontLocks(cv *canvas, m affine, style HairStyle, col, dark rgb) {
	var end float64
	switch style {
	case HairMedium:
		end = 1.75
	case HairLong:
		end = 2.9
	default:
		return
	}
	for _, sx := range []float64{-1, 1} {
		lock := poly{{0.7, 0.2}, {1.02, 0.1}, {1.12, end * 0.6}, {1.0, end}, {0.86, end - 0.25}, {0.78, end * 0.6}}
		if sx < 0 {
			lock = mirrorPoly(lock)
		}
		cv.fill(lock, m, col, 1)
		cv.outline(lock, 0.035, m, dark)
		cv.stroke(quad(pt{sx * 0.9, 0.4}, pt{sx * 0.98, end * 0.6}, pt{sx * 0.95, end - 0.2}, 8), 0.025, m, dark)
	}
}

func drawFace(cv *canvas, m affine, s Scene) {
	eyes := s.eyes
	for _, sx := range []float64{-1, 1} {
		x := sx * 0.36
		if s.eyesClosed {
			cv.stroke(quad(pt{x - 0.2, 0.32}, pt{x, 0.14}, pt{x + 0.2, 0.32}, 8), 0.06, m, lineDark)
			continue
		}
		white := ellipse{cx: x, cy: 0.28, rx: 0.2, ry: 0.2}
		cv.fill(white, m, rgb{252, 252, 255}, 1)
		iris := ellipse{cx: x, cy: 0.3, rx: 0.13, ry: 0.18}
		cv.fill(and{iris, white}, m, eyes, 1)
		cv.fill(and{ellipse{cx: x, cy: 0.2, rx: 0.14, ry: 0.11}, and{iris, white}}, m, eyes.scale(0.6), 1)
		cv.fill(ellipse{cx: x, cy: 0.31, rx: 0.06, ry: 0.09}, m, eyes.scale(0.3), 1)
		cv.fill(and{ellipse{cx: x, cy: 0.42, rx: 0.09, ry: 0.05}, iris}, m, eyes.mix(rgb{255, 255, 255}, 0.5), 0.7)
		cv.fill(circle(x-sx*0.05, 0.21, 0.045), m, rgb{255, 255, 255}, 1)
		// Upper lash line and a flick at the outer corner.
		cv.stroke(quad(pt{x - 0.23, 0.24}, pt{x, 0.02}, pt{x + 0.23, 0.24}, 10), 0.06, m, rgb{50, 35, 40})
		cv.stroke([]pt{{x + sx*0.21, 0.2}, {x + sx*0.28, 0.14}}, 0.04, m, rgb{50, 35, 40})
	}
	// Nose and mouth.
	cv.stroke([]pt{{0.02, 0.46}, {0, 0.5}}, 0.025, m, skinShade.scale(0.9))
	switch s.mouth {
	case 0:
		cv.stroke(quad(pt{-0.11, 0.62}, pt{0, 0.7}, pt{0.11, 0.62}, 8), 0.03, m, rgb{130, 60, 60})
	case 1:
		cv.fill(ellipse{cx: 0, cy: 0.65, rx: 0.08, ry: 0.06}, m, rgb{150, 60, 70}, 1)
		cv.fill(ellipse{cx: 0, cy: 0.69, rx: 0.05, ry: 0.025}, m, rgb{230, 120, 130}, 1)
	default:
		cv.stroke([]pt{{-0.07, 0.65}, {0.07, 0.65}}, 0.03, m, rgb{130, 60, 60})
	}
	if s.blush {
		for _, sx := range []float64{-1, 1} {
			cv.fill(ellipse{cx: sx * 0.5, cy: 0.52, rx: 0.14, ry: 0.07}, m, rgb{250, 140, 150}, 0.45)
		}
	}
}

// drawFrontHair draws the hair over the forehead: the cap, the fringe and
// the locks framing the face.
func drawFrontHair(cv *canvas, m affine, c Character, col, dark rgb) {
	tipY := -0.15 + 0.45*c.Bangs
	fringe := poly{{-0.98, -0.35}}
	const n = 7
	for i := 0; i < n; i++ {
		x := -0.86 + 1.72*(float64(i)+0.5)/n
		wob := 0.05 * math.Sin(float64(i)*2.1+c.Bangs*10)
		fringe = append(fringe, pt{x - 0.1, tipY - 0.28 + wob}, pt{x, tipY + wob})
	}
	fringe = append(fringe, pt{0.98, -0.35}, pt{0.98, -0.7}, pt{-0.98, -0.7})
	sideLen := 0.78
	if c.HairStyle == HairMedium || c.HairStyle == HairLong {
		sideLen = 1.0
	}
	side := poly{{0.74, -0.45}, {1.0, -0.35}, {1.0, sideLen * 0.6}, {0.9, sideLen}, {0.8, sideLen - 0.2}, {0.72, 0.2}}
	for _, p := range []poly{side, mirrorPoly(side)} {
		cv.fill(p, m, col, 1)
		cv.outline(p, 0.035, m, dark)
	}
	cap := and{ellipse{cx: 0, cy: -0.08, rx: 1.0, ry: 0.96}, halfPlane{y: -0.25, above: true}}
	outlined(cv, cap, m, col, dark, 0.03, 0, -0.3)
	cv.fill(fringe, m, col, 1)
	for i := 1; i < len(fringe)-3; i++ {
		cv.fill(capsule{fringe[i], fringe[i+1], 0.018}, m, dark, 1)
	}
	// Shine: a light band across the crown.
	shine := minus{ellipse{cx: 0, cy: -0.5, rx: 0.62, ry: 0.2}, ellipse{cx: 0, cy: -0.44, rx: 0.62, ry: 0.18}}
	cv.fill(shine, m, col.mix(white, 0.55), 0.8)
	if c.Ahoge {
		cv.stroke(quad(pt{0.05, -0.95}, pt{0.1, -1.5}, pt{0.4, -1.35}, 10), 0.08, m, dark)
		cv.stroke(quad(pt{0.05, -0.95}, pt{0.1, -1.5}, pt{0.4, -1.35}, 10), 0.045, m, col)
	}
}

func drawAccessories(cv *canvas, m affine, c Character) {
	rc := toRGB(c.RibbonColour)
	rdark := rc.scale(0.55)
	if rdark.r+rdark.g+rdark.b < 60 {
		rdark = rgb{90, 90, 100}
	}
	switch c.Ribbon {
	case RibbonBunny:
		for _, sx := range []float64{-1, 1} {
			loop := ellipse{cx: sx * 0.28, cy: -1.3, rx: 0.19, ry: 0.42, rot: sx * 0.35}
			outlinedEllipse(cv, loop, m, rc, rdark, 0.035)
			cv.fill(ellipse{cx: sx * 0.25, cy: -1.24, rx: 0.08, ry: 0.26, rot: sx * 0.35}, m, rdark, 1)
		}
		outlinedEllipse(cv, circle(0, -0.95, 0.13), m, rc, rdark, 0.03)
	case RibbonButterfly:
		for _, sx := range []float64{-1, 1} {
			drawBow(cv, m.then(translate(sx*0.82, -0.5)).then(rotate(sx*0.5)).then(scaleXY(1.1, 1.1)), rc, rdark)
		}
	case RibbonBow:
		drawBow(cv, m.then(translate(0.8, -0.55)).then(rotate(0.4)).then(scaleXY(0.75, 0.75)), rc, rdark)
	}
	oc := toRGB(c.OrnamentColour)
	switch c.Ornament {
	case OrnamentStar:
		for _, sx := range []float64{-1, 1} {
			st := starPoly(sx*0.6, -0.48, 0.18, 0.08, sx*0.2)
			outlined(cv, st, m, oc, oc.scale(0.55), 0.025, sx*0.6, -0.48)
		}
	case OrnamentButterfly:
		drawButterfly(cv, m.then(translate(-0.62, -0.5)).then(rotate(-0.3)).then(scaleXY(0.8, 0.8)), oc)
	}
	if c.Earrings {
		gold := rgb{240, 200, 70}
		cv.stroke([]pt{{0.88, 0.35}, {0.88, 0.5}}, 0.025, m, gold.scale(0.7))
		outlinedEllipse(cv, circle(0.88, 0.56, 0.06), m, gold, gold.scale(0.6), 0.02)
	}
}

// drawBow draws a ribbon bow centred at the origin of m, about 0.8 wide.
func drawBow(cv *canvas, m affine, col, dark rgb) {
	wing := poly{{0, 0}, {-0.4, -0.25}, {-0.45, 0.02}, {-0.38, 0.22}}
	tail := poly{{-0.02, 0.05}, {-0.18, 0.45}, {-0.06, 0.4}, {0.02, 0.08}}
	for _, p := range []poly{tail, mirrorPoly(tail), wing, mirrorPoly(wing)} {
		outlined(cv, p, m, col, dark, 0.025, 0, 0)
	}
	outlinedEllipse(cv, ellipse{cx: 0, cy: 0, rx: 0.08, ry: 0.1}, m, col, dark, 0.025)
}

func drawButterfly(cv *canvas, m affine, col rgb) {
	dark := col.scale(0.5)
	for _, sx := range []float64{-1, 1} {
		outlinedEllipse(cv, ellipse{cx: sx * 0.18, cy: -0.1, rx: 0.18, ry: 0.13, rot: sx * 0.5}, m, col, dark, 0.025)
		outlinedEllipse(cv, ellipse{cx: sx * 0.13, cy: 0.12, rx: 0.11, ry: 0.08, rot: -sx * 0.4}, m, col.mix(white, 0.3), dark, 0.025)
	}
	cv.fill(ellipse{cx: 0, cy: 0, rx: 0.035, ry: 0.17}, m, dark, 1)
}
