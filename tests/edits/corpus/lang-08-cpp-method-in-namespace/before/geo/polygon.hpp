#include <vector>

namespace geo {

class Polygon {
 public:
  double perimeter() const {
    double total = 0;
    for (size_t i = 1; i < sides.size(); ++i) total += sides[i];
    return total;
  }

 private:
  std::vector<double> sides;
};

}  // namespace geo
