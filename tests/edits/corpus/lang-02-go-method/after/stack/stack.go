package stack

type Stack struct {
	items []int
}

func (s *Stack) Push(x int) {
	s.items = append(s.items, x)
}

func (s *Stack) Pop() int {
	n := len(s.items) - 1
	x := s.items[n]
	s.items = s.items[:n]
	return x
}
