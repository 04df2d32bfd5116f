package track

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rally's templates get the filters days_ago, get_start_date and
// get_end_date (esrally/time.py), whose date formats are Python strptime
// formats. strptime and strftime below implement the directives those
// formats use: %Y %y %m %d %H %I %M %S %f %p %b %B %a %A %j %z %Z %%.

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// strptime parses value with a Python date format; dates without a zone
// are UTC (Rally's default_tz).
func strptime(value, format string) (time.Time, error) {
	year, month, day, hour, minute, sec, nsec := 1900, 1, 1, 0, 0, 0, 0
	yday, pm, hasPM := 0, false, false
	loc := time.UTC
	v := value
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("time data %q does not match format %q", value, format)
	}
	num := func(maxDigits int) (int, bool) {
		i := 0
		for i < len(v) && i < maxDigits && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, false
		}
		n, _ := strconv.Atoi(v[:i])
		v = v[i:]
		return n, true
	}
	name := func(names []string) (int, bool) {
		for i, n := range names {
			for _, cand := range []string{n, n[:3]} {
				if len(v) >= len(cand) && strings.EqualFold(v[:len(cand)], cand) {
					v = v[len(cand):]
					return i, true
				}
			}
		}
		return 0, false
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			if c == ' ' {
				v = strings.TrimLeft(v, " \t")
				continue
			}
			if len(v) == 0 || v[0] != c {
				return bad()
			}
			v = v[1:]
			continue
		}
		i++
		if i == len(format) {
			return time.Time{}, fmt.Errorf("stray %% at the end of date format %q", format)
		}
		var ok bool
		switch format[i] {
		case 'Y':
			year, ok = num(4)
		case 'y':
			year, ok = num(2)
			if year < 69 {
				year += 2000
			} else {
				year += 1900
			}
		case 'm':
			month, ok = num(2)
		case 'd':
			day, ok = num(2)
		case 'H':
			hour, ok = num(2)
		case 'I':
			hour, ok = num(2)
			hasPM = true
		case 'M':
			minute, ok = num(2)
		case 'S':
			sec, ok = num(2)
		case 'j':
			yday, ok = num(3)
		case 'f':
			start := len(v)
			var frac int
			frac, ok = num(6)
			digits := start - len(v)
			for ; digits < 9; digits++ {
				frac *= 10
			}
			nsec = frac
		case 'p':
			switch {
			case len(v) >= 2 && strings.EqualFold(v[:2], "AM"):
				ok = true
			case len(v) >= 2 && strings.EqualFold(v[:2], "PM"):
				ok, pm = true, true
			}
			if ok {
				v = v[2:]
			}
		case 'b', 'B':
			var m int
			m, ok = name(monthNames)
			month = m + 1
		case 'a', 'A':
			_, ok = name(dayNames)
		case 'z':
			if len(v) >= 1 && (v[0] == 'Z' || v[0] == 'z') {
				v, ok = v[1:], true
				break
			}
			if len(v) >= 5 && (v[0] == '+' || v[0] == '-') {
				hh, mm, used := v[1:3], v[3:5], 5
				if len(v) >= 6 && v[3] == ':' {
					hh, mm, used = v[1:3], v[4:6], 6
				}
				h, err1 := strconv.Atoi(hh)
				m, err2 := strconv.Atoi(mm)
				if err1 == nil && err2 == nil && h >= 0 && m >= 0 {
					offset := (h*60 + m) * 60
					if v[0] == '-' {
						offset = -offset
					}
					loc = time.FixedZone("", offset)
					v, ok = v[used:], true
				}
			}
		case 'Z':
			for _, z := range []string{"UTC", "GMT"} {
				if strings.HasPrefix(v, z) {
					v, ok = v[len(z):], true
				}
			}
		case '%':
			if len(v) > 0 && v[0] == '%' {
				v, ok = v[1:], true
			}
		default:
			return time.Time{}, fmt.Errorf("date format %q: directive %%%c is not supported", format, format[i])
		}
		if !ok {
			return bad()
		}
	}
	if v != "" {
		return time.Time{}, fmt.Errorf("unconverted data remains: %q", v)
	}
	if hasPM {
		if hour < 1 || hour > 12 {
			return bad()
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 61 {
		return bad()
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("day is out of range for month in %q", value)
	}
	if yday > 0 {
		t = time.Date(year, 1, 1, hour, minute, sec, nsec, loc).AddDate(0, 0, yday-1)
	}
	return t, nil
}

// strftime formats t with a Python date format.
func strftime(t time.Time, format string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(format) {
			return "", fmt.Errorf("stray %% at the end of date format %q", format)
		}
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'b':
			b.WriteString(monthNames[t.Month()-1][:3])
		case 'B':
			b.WriteString(monthNames[t.Month()-1])
		case 'a':
			b.WriteString(dayNames[t.Weekday()][:3])
		case 'A':
			b.WriteString(dayNames[t.Weekday()])
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("date format %q: directive %%%c is not supported", format, format[i])
		}
	}
	return b.String(), nil
}

// toTime converts a template value to a time: a number is a Unix
// timestamp in seconds (Rally's `now`), a string is parsed with format.
func toTime(v any, format string) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case float64:
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	case float32:
		return toTime(float64(x), format)
	case int:
		return time.Unix(int64(x), 0).UTC(), nil
	case int64:
		return time.Unix(x, 0).UTC(), nil
	case string:
		return strptime(x, format)
	default:
		return time.Time{}, fmt.Errorf("cannot convert %v (%T) to a date", v, v)
	}
}

// daysBetween is Python's (end - start).days: whole days, rounded down.
func daysBetween(start, end time.Time) int {
	d := end.Sub(start)
	days := d / (24 * time.Hour)
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return int(days)
}
