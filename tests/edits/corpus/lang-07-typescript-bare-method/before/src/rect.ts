export class Rect {
  constructor(private w: number, private h: number) {}

  area(): number {
    return this.w + this.h;
  }

  perimeter(): number {
    return 2 * (this.w + this.h);
  }
}
