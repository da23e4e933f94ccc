package importrun

import (
	"math"
	"time"
)

// MaxPolls is how many status reads one import may take at most. A run of
// the daily pipeline enters 10 states besides the wait loop and 3 per poll
// (Wait, the status Task, the Choice): 10 + 3*9 = 37 on success; a failure
// in the last steps adds DescribeFailure, NotifyFailure and Fail: 39. The
// budget of one run is 40.
const MaxPolls = 9

// FirstPoll is when the first status read happens after the run started:
// a JDBC crawl, a Flex job start and an output crawl rarely finish sooner.
const FirstPoll = 10 * time.Minute

// MinWait keeps two status reads apart even when a run was attached late.
const MinWait = 30 * time.Second

// Schedule places at most MaxPolls status reads on a geometric grid of
// elapsed times from FirstPoll to Timeout: poll k is at FirstPoll*g^(k-1),
// and the last one is exactly at Timeout. The grid is fixed relative to
// the run's start, so delays of the Lambda or the Wait state never add polls.
type Schedule struct {
	First   time.Duration
	Timeout time.Duration
	Polls   int
}

// NewSchedule is the schedule of a run that may last timeout.
func NewSchedule(timeout time.Duration) Schedule {
	first := FirstPoll
	if first > timeout/2 {
		first = timeout / 2
	}
	return Schedule{First: first, Timeout: timeout, Polls: MaxPolls}
}

// Growth is the ratio between two consecutive poll times.
func (s Schedule) Growth() float64 {
	if s.Polls < 2 {
		return 1
	}
	return math.Pow(float64(s.Timeout)/float64(s.First), 1/float64(s.Polls-1))
}

// PollTimes are the elapsed times of the status reads, the last = Timeout.
func (s Schedule) PollTimes() []time.Duration {
	g := s.Growth()
	out := make([]time.Duration, s.Polls)
	for k := range out {
		out[k] = time.Duration(float64(s.First) * math.Pow(g, float64(k))).Round(time.Second)
	}
	out[len(out)-1] = s.Timeout
	return out
}

// NextWait is how long to wait, when the run has been going for elapsed,
// until the next poll time of the grid. Past the last poll time it returns
// 0: the run has timed out.
func (s Schedule) NextWait(elapsed time.Duration) time.Duration {
	for _, t := range s.PollTimes() {
		// A poll time closer than MinWait is skipped: the read that is
		// running now stands for it.
		if t-elapsed >= MinWait {
			return t - elapsed
		}
	}
	if elapsed < s.Timeout {
		return max(s.Timeout-elapsed, time.Second)
	}
	return 0
}

// NoticeDelay is how long after finishing at elapsed an import is noticed:
// the gap to the next poll time (0 for an import still running at Timeout).
func (s Schedule) NoticeDelay(finished time.Duration) time.Duration {
	for _, t := range s.PollTimes() {
		if t >= finished {
			return t - finished
		}
	}
	return 0
}
