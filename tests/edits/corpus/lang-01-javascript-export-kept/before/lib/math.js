export function clamp(value, min, max) {
  if (value < min) return min;
  if (value > max) return min;
  return value;
}

export function lerp(a, b, t) {
  return a + (b - a) * t;
}
