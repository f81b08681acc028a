package wav

// G.711 A-law and µ-law tables (ITU-T G.711), decoded to 16-bit linear.
var alawTable, mulawTable [256]int16

func init() {
	for i := 0; i < 256; i++ {
		alawTable[i] = alawDecode(byte(i))
		mulawTable[i] = mulawDecode(byte(i))
	}
}

func alawDecode(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func mulawDecode(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + 0x84
	t <<= (int(u) & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func alawEncode(v int16) byte {
	pcm := int(v) >> 3 // 13-bit
	var mask byte
	if pcm >= 0 {
		mask = 0xD5
	} else {
		mask = 0x55
		pcm = -pcm - 1
	}
	segEnd := [8]int{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}
	seg := 8
	for i, e := range segEnd {
		if pcm <= e {
			seg = i
			break
		}
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte(pcm>>1) & 0x0F
	} else {
		a |= byte(pcm>>seg) & 0x0F
	}
	return a ^ mask
}

func mulawEncode(v int16) byte {
	const bias, clip = 0x84, 32635
	pcm := int(v)
	var mask byte = 0xFF
	if pcm < 0 {
		pcm = -pcm
		mask = 0x7F
	}
	if pcm > clip {
		pcm = clip
	}
	pcm += bias
	// seg = position of the highest set bit above bit 7
	seg := 0
	for i := 7; i >= 0; i-- {
		if pcm&(0x4000>>(7-i)) != 0 {
			seg = i
			break
		}
	}
	u := byte(seg<<4) | byte((pcm>>(seg+3))&0x0F)
	return u ^ mask
}
